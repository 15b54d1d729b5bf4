namespace Mesh.Mlflow;

/// <summary>
/// MLflow's tracking calls: experiments, runs, batched logging, tags and metric history. Implemented over
/// the REST API (<see cref="MlflowTrackingClient"/>) and over a local folder (<see cref="LocalTrackingStore"/>)
/// so a service records the same way with or without a tracking server.
/// </summary>
public interface IMlflowTracking
{
    /// <summary>Where the records go, for logs: the server's URL or the folder.</summary>
    public string Destination { get; }

    /// <summary>The id of the experiment named <paramref name="name"/>, created when missing (a concurrent creator wins harmlessly).</summary>
    public Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Starts a run (<c>runs/create</c>) with its name and tags.</summary>
    public Task<MlflowRunInfo> CreateRunAsync(string experimentId, string runName, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default);

    /// <summary>Sets a run's status and end time (<c>runs/update</c>).</summary>
    public Task UpdateRunAsync(string runId, string status, long? endTime, CancellationToken cancellationToken = default);

    /// <summary>A run with its latest metrics, params and tags (<c>runs/get</c>).</summary>
    /// <exception cref="MlflowResourceNotFoundException">No such run.</exception>
    public Task<MlflowRun> GetRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>One page of runs of the experiments matching <paramref name="filter"/> (MLflow's search syntax, e.g. <c>tags.mesh.arm = 'a'</c>).</summary>
    public Task<MlflowRunPage> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter, int maxResults, string? pageToken = null, CancellationToken cancellationToken = default);

    /// <summary>Logs metrics, params and tags, in as many <c>runs/log-batch</c> requests as MLflow's per-request limits need.</summary>
    public Task LogBatchAsync(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowKeyValue> parameters, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default);

    /// <summary>Sets one tag (<c>runs/set-tag</c>).</summary>
    public Task SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default);

    /// <summary>One page of a metric's history (<c>metrics/get-history</c>, always with <c>max_results</c>).</summary>
    public Task<MlflowMetricPage> GetMetricHistoryAsync(string runId, string metricKey, int maxResults = MlflowLimits.MaxMetricHistoryResults, string? pageToken = null, CancellationToken cancellationToken = default);
}

/// <summary>MLflow's per-request limits.</summary>
public static class MlflowLimits
{
    /// <summary>Metrics in one <c>log-batch</c>.</summary>
    public const int MaxMetricsPerBatch = 1000;

    /// <summary>Params in one <c>log-batch</c>.</summary>
    public const int MaxParamsPerBatch = 100;

    /// <summary>Tags in one <c>log-batch</c>.</summary>
    public const int MaxTagsPerBatch = 100;

    /// <summary>Metrics, params and tags together in one <c>log-batch</c>.</summary>
    public const int MaxEntitiesPerBatch = 1000;

    /// <summary>The page size asked of <c>metrics/get-history</c> (MLflow's own client default).</summary>
    public const int MaxMetricHistoryResults = 25000;

    /// <summary>
    /// Splits a batch so each part respects every limit: params and tags go first (few), metrics fill what is left.
    /// Order within each kind is kept, as MLflow applies them in order.
    /// </summary>
    public static IEnumerable<(List<MlflowMetric> Metrics, List<MlflowKeyValue> Params, List<MlflowKeyValue> Tags)> Split(
        IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowKeyValue> parameters, IReadOnlyList<MlflowKeyValue> tags)
    {
        int m = 0, p = 0, t = 0;
        do
        {
            var ps = parameters.Skip(p).Take(MaxParamsPerBatch).ToList();
            var ts = tags.Skip(t).Take(MaxTagsPerBatch).ToList();
            var room = Math.Min(MaxMetricsPerBatch, MaxEntitiesPerBatch - ps.Count - ts.Count);
            var ms = metrics.Skip(m).Take(room).ToList();
            p += ps.Count;
            t += ts.Count;
            m += ms.Count;
            yield return (ms, ps, ts);
        }
        while (m < metrics.Count || p < parameters.Count || t < tags.Count);
    }
}
