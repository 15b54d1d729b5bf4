using System.ComponentModel.DataAnnotations;

namespace Mesh.MetricsSink.Options;

/// <summary>How predictions and labels are joined and where the summary goes (configuration section <c>MetricsSink</c>).</summary>
internal sealed class MetricsSinkOptions
{
    public const string SectionName = "MetricsSink";

    /// <summary>Folder of <c>summary.json</c> and its README; <c>~</c> is the home folder, relative paths the current directory.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:TrackingDir must not be empty.")]
    public string TrackingDir { get; set; } = "~/.mesh/tracking";

    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:GroupId must not be empty.")]
    public string GroupId { get; set; } = "mesh-metrics-sink";

    /// <summary>How long a prediction waits for its label (and a label for its prediction) before it counts as unmatched.</summary>
    [Range(1, 604_800, ErrorMessage = "MetricsSink:JoinWindowSeconds must be between 1 and 604,800 (a week).")]
    public int JoinWindowSeconds { get; set; } = 600;

    /// <summary>Most request ids held in memory; the oldest are evicted beyond it, so memory stays bounded under any lag.</summary>
    [Range(1, 50_000_000, ErrorMessage = "MetricsSink:MaxPending must be between 1 and 50,000,000.")]
    public int MaxPending { get; set; } = 200_000;

    [Range(50, 600_000, ErrorMessage = "MetricsSink:FlushIntervalMs must be between 50 and 600,000.")]
    public int FlushIntervalMs { get; set; } = 1000;

    /// <summary>Length of a metrics window: each closes into one MLflow step per arm (step = Unix time / window, so it survives restarts).</summary>
    [Range(1, 86_400, ErrorMessage = "MetricsSink:WindowSeconds must be between 1 and 86,400 (a day).")]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>Tracking records held while MLflow is slow or down; beyond it they are dropped and counted.</summary>
    [Range(1, 10_000_000, ErrorMessage = "MetricsSink:TrackingBufferSize must be between 1 and 10,000,000.")]
    public int TrackingBufferSize { get; set; } = 10_000;

    /// <summary>
    /// This sink's stable identity, tagged on its MLflow runs: a RUNNING run of an earlier start with the same identity
    /// is ended KILLED at once. Empty: the pod's name in Kubernetes (<c>HOSTNAME</c> there), else none, so two sinks on
    /// one machine never take each other's runs for their own.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// How long another sink's RUNNING run may go without a heartbeat (renewed every fifth of it) before a sink ends it
    /// KILLED as left by a sink that died: a live sink scaled out beside this one keeps its runs.
    /// </summary>
    [Range(60, 86_400, ErrorMessage = "MetricsSink:RunStaleSeconds must be between 60 and 86,400 (a day).")]
    public int RunStaleSeconds { get; set; } = 300;

    /// <summary>The sequential test's false-positive rate, held however often the verdict is looked at.</summary>
    [Range(0.0001, 0.5, ErrorMessage = "MetricsSink:VerdictAlpha must be between 0.0001 and 0.5.")]
    public double VerdictAlpha { get; set; } = 0.05;

    /// <summary>The accuracy difference the test is tuned to detect fastest (the mSPRT mixture's standard deviation).</summary>
    [Range(0.001, 1.0, ErrorMessage = "MetricsSink:VerdictEffectSize must be between 0.001 and 1.")]
    public double VerdictEffectSize { get; set; } = 0.05;

    /// <summary>Labelled predictions every primary arm needs before the test runs.</summary>
    [Range(1, 100_000_000, ErrorMessage = "MetricsSink:VerdictMinJoined must be between 1 and 100,000,000.")]
    public int VerdictMinJoined { get; set; } = 100;

    /// <summary>A StackExchange.Redis configuration string: when set, per-arm trials and successes go there for the router's bandits.</summary>
    public string? Redis { get; set; }

    /// <summary>The router's <c>Router:Bandit:KeyPrefix</c>: the two must match.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:BanditKeyPrefix must not be empty.")]
    public string BanditKeyPrefix { get; set; } = "mesh:bandit:";

    /// <summary>Off by default. On: a winner's model version gets <see cref="ChampionAlias"/> in the MLflow registry, with an audit tag.</summary>
    public bool PromoteWinner { get; set; }

    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:ChampionAlias must not be empty.")]
    [RegularExpression(@"^[A-Za-z0-9_\-]+$", ErrorMessage = "MetricsSink:ChampionAlias may hold only letters, digits, '_' and '-'.")]
    public string ChampionAlias { get; set; } = "champion";

    /// <summary><c>RequestId</c> (default) or <c>EntityTime</c>: a label joins its entity's latest prediction made at or before the label's observed time.</summary>
    [EnumDataType(typeof(JoinBy), ErrorMessage = "MetricsSink:JoinBy must be RequestId or EntityTime.")]
    public JoinBy JoinBy { get; set; } = JoinBy.RequestId;

    /// <summary>
    /// <c>Memory</c> (default): the join state lives in this process only. <c>Redis</c>: predictions and labels also go
    /// to <see cref="Redis"/> (request-id join only), so another instance, or this one after a restart, joins them.
    /// </summary>
    [RegularExpression("^(Memory|Redis)$", ErrorMessage = "MetricsSink:JoinState must be Memory or Redis.")]
    public string JoinState { get; set; } = "Memory";

    /// <summary>Prefix of the join state's keys in Redis, one hash per request id: <c>{prefix}{requestId}</c>.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:JoinKeyPrefix must not be empty.")]
    public string JoinKeyPrefix { get; set; } = "mesh:join:";

    /// <summary>A join key lives <see cref="JoinWindowSeconds"/> plus this after its last new record, so expiries can still read it.</summary>
    [Range(1, 86_400, ErrorMessage = "MetricsSink:JoinKeyTtlMarginSeconds must be between 1 and 86,400 (a day).")]
    public int JoinKeyTtlMarginSeconds { get; set; } = 60;

    /// <summary>Where drift alerts go (JSON events, docs/drift.md), for a pager or a retraining job to subscribe to.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "MetricsSink:AlertsTopic must not be empty.")]
    public string AlertsTopic { get; set; } = "mesh.alerts.v1";

    /// <summary>
    /// The router's experiment YAML, read once at start for each experiment's declared outcomes (docs/outcomes.md);
    /// empty: no custom outcomes, accuracy drives the verdict and correct predictions the bandit.
    /// </summary>
    public string? ExperimentFile { get; set; }

    public string ResolveTrackingDir()
    {
        var dir = TrackingDir;
        if (dir == "~" || dir.StartsWith("~/", StringComparison.Ordinal))
        {
            dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), dir.Length > 2 ? dir[2..] : "");
        }

        return Path.GetFullPath(dir, Directory.GetCurrentDirectory());
    }
}
