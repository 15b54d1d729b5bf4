namespace Mesh.Mlflow;

/// <summary>How a <see cref="TrackingWriter"/> buffers and retries.</summary>
public sealed class TrackingWriterOptions
{
    /// <summary>Records held while the destination is slow or down; beyond it new records are dropped and counted.</summary>
    public int Capacity { get; set; } = 10_000;

    /// <summary>Records taken from the buffer per write round.</summary>
    public int MaxRecordsPerRound { get; set; } = 500;

    /// <summary>The first wait after a failed round; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two rounds that failed.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Called when a round fails: the error and whether the records are kept for a retry (false: they are dropped as malformed).</summary>
    public Action<Exception, bool>? OnError { get; set; }

    /// <summary>Called the first time the buffer overflows after having had room, with the total dropped so far.</summary>
    public Action<long>? OnOverflow { get; set; }

    /// <summary>Called when writing succeeds again after failures.</summary>
    public Action? OnRecovered { get; set; }

    /// <summary>
    /// When set, this process's runs are its own: each run key gets a new run per start (tagged
    /// <see cref="TrackingWriter.StartIdTag"/>), <see cref="TrackingWriter.CompleteAsync"/> ends them FINISHED, and runs
    /// an earlier start left RUNNING (it died) are ended KILLED: when their experiment is first written to, and
    /// again every <see cref="StaleAfter"/> while this start runs. With several writers on one experiment (a sink
    /// scaled out) another start's RUNNING run may be a live writer's, so each run carries a heartbeat
    /// (<see cref="TrackingWriter.HeartbeatTag"/>, renewed every <see cref="HeartbeatInterval"/>) and only a run whose
    /// heartbeat is older than <see cref="StaleAfter"/>, or that names this writer's <see cref="InstanceId"/>, is ended.
    /// When null, a run key names one run across restarts, which a restarted writer continues.
    /// </summary>
    public string? StartId { get; set; }

    /// <summary>
    /// The stable identity of this writer's process (a pod's name), tagged on its runs
    /// (<see cref="TrackingWriter.InstanceIdTag"/>): another start's RUNNING run with the same identity is this
    /// process's earlier life, which died, and is ended KILLED without waiting for its heartbeat to go stale. Null:
    /// no identity is shared across starts (two writers on one machine), only staleness decides.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>How often the runs of this start get a fresh heartbeat (a write to a run renews it too).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How old another start's heartbeat must be before its RUNNING run counts as left by a dead writer; several
    /// heartbeat intervals, so a writer slowed by a busy MLflow is not taken for dead.
    /// </summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock for run end times, heartbeats and their staleness.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
