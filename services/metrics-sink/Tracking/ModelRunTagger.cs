using System.Collections.Concurrent;
using Mesh.Mlflow;

namespace Mesh.MetricsSink.Tracking;

/// <summary>
/// Links each arm's run to the run that trained its model: before a batch goes to MLflow, the model version the run's
/// tags name (<c>mesh.model_name</c>, <c>mesh.model_version</c>) is looked up in the registry (<c>model-versions/get</c>)
/// and its <c>run_id</c> added as tag <c>mesh.model_run_id</c>. One lookup per version, cached; a failed one (the
/// version is not registered, the registry does not answer) is logged, tracking goes on without the tag, and it is
/// tried again after <see cref="RetryAfter"/>. Runs in the tracking writer's background loop, never in the stream's.
/// Only for a real MLflow: the local tracking folder has no registry.
/// </summary>
internal sealed partial class ModelRunTagger(
    IMlflowTracking inner,
    Func<string, string, CancellationToken, Task<ModelVersion>> getModelVersion,
    TimeProvider time,
    ILogger<ModelRunTagger> logger) : IMlflowTracking
{
    public const string ModelRunIdTag = "mesh.model_run_id";
    public const string ModelNameTag = "mesh.model_name";
    public const string ModelVersionTag = "mesh.model_version";

    /// <summary>How long a failed lookup is remembered before the registry is asked again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(5);

    // A registry that hangs must not hold the writer (and with it every arm's figures) for long.
    private static readonly TimeSpan s_lookupTimeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<(string Name, string Version), Lookup> _lookups = new();

    public string Destination => inner.Destination;

    public async Task LogBatchAsync(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowKeyValue> parameters, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default)
    {
        var name = tags.LastOrDefault(t => t.Key == ModelNameTag)?.Value;
        var version = tags.LastOrDefault(t => t.Key == ModelVersionTag)?.Value;
        if (!string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(version) && tags.All(t => t.Key != ModelRunIdTag) &&
            await TrainingRunAsync(name, version, cancellationToken).ConfigureAwait(false) is { } trainingRun)
        {
            tags = [.. tags, new MlflowKeyValue(ModelRunIdTag, trainingRun)];
        }

        await inner.LogBatchAsync(runId, metrics, parameters, tags, cancellationToken).ConfigureAwait(false);
    }

    public Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken = default) =>
        inner.GetOrCreateExperimentAsync(name, cancellationToken);

    public Task<MlflowRunInfo> CreateRunAsync(string experimentId, string runName, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default) =>
        inner.CreateRunAsync(experimentId, runName, tags, cancellationToken);

    public Task UpdateRunAsync(string runId, string status, long? endTime, CancellationToken cancellationToken = default) =>
        inner.UpdateRunAsync(runId, status, endTime, cancellationToken);

    public Task<MlflowRun> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        inner.GetRunAsync(runId, cancellationToken);

    public Task<MlflowRunPage> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter, int maxResults, string? pageToken = null, CancellationToken cancellationToken = default) =>
        inner.SearchRunsAsync(experimentIds, filter, maxResults, pageToken, cancellationToken);

    public Task SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default) =>
        inner.SetTagAsync(runId, key, value, cancellationToken);

    public Task<MlflowMetricPage> GetMetricHistoryAsync(string runId, string metricKey, int maxResults = MlflowLimits.MaxMetricHistoryResults, string? pageToken = null, CancellationToken cancellationToken = default) =>
        inner.GetMetricHistoryAsync(runId, metricKey, maxResults, pageToken, cancellationToken);

    /// <summary>The run id that produced the version, or null when it is not known (yet).</summary>
    private async Task<string?> TrainingRunAsync(string name, string version, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_lookups.TryGetValue((name, version), out var known) && (known.RunId is not null || now < known.RetryAt))
        {
            return known.RunId;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_lookupTimeout);
        string? runId = null;
        string? failure = null;
        try
        {
            var found = await getModelVersion(name, version, timeout.Token).ConfigureAwait(false);
            runId = string.IsNullOrEmpty(found.RunId) ? null : found.RunId;
            failure = runId is null ? "the registry's model version has no run_id" : null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Never the writer's problem: a lookup error must not look like a failed (or deleted) run to it.
            failure = e is OperationCanceledException ? $"no answer within {s_lookupTimeout.TotalSeconds:0} s" : e.Message;
        }

        if (failure is not null)
        {
            LogLookupFailed(name, version, failure, RetryAfter.TotalMinutes);
        }

        _lookups[(name, version)] = new Lookup(runId, now + RetryAfter);
        return runId;
    }

    private readonly record struct Lookup(string? RunId, DateTimeOffset RetryAt);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "Could not find the training run of model {Model} version {Version} in the registry ({Reason}); its arm's run goes without tag mesh.model_run_id, asking again in {Minutes} min")]
    private partial void LogLookupFailed(string model, string version, string reason, double minutes);
}
