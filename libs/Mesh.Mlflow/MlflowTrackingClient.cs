namespace Mesh.Mlflow;

/// <summary>
/// MLflow's tracking REST calls (<c>/api/2.0/mlflow/experiments|runs|metrics/...</c>) through an
/// <see cref="MlflowClient"/>, so retries, authentication and typed errors are the same as the registry's.
/// </summary>
public sealed class MlflowTrackingClient(MlflowClient client) : IMlflowTracking
{
    /// <inheritdoc />
    public string Destination => client.TrackingUri.ToString();

    /// <inheritdoc />
    public async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var found = await client.GetAsync<ExperimentResponse>("mlflow/experiments/get-by-name", [new("experiment_name", name)], cancellationToken).ConfigureAwait(false);
            if (found.Experiment is { ExperimentId.Length: > 0 } experiment)
            {
                return experiment.ExperimentId;
            }
        }
        catch (MlflowResourceNotFoundException)
        {
            // Not there yet: create it below.
        }

        try
        {
            var created = await client.PostAsync<CreateExperimentResponse>("mlflow/experiments/create", new { name }, cancellationToken).ConfigureAwait(false);
            return created.ExperimentId ?? throw new MlflowException(MlflowErrorCodes.Unknown, "mlflow/experiments/create answered without experiment_id");
        }
        catch (MlflowException e) when (e.ErrorCode == MlflowErrorCodes.ResourceAlreadyExists)
        {
            // Another replica created it between our two calls.
            var found = await client.GetAsync<ExperimentResponse>("mlflow/experiments/get-by-name", [new("experiment_name", name)], cancellationToken).ConfigureAwait(false);
            return found.Experiment?.ExperimentId ?? throw new MlflowException(MlflowErrorCodes.Unknown, "mlflow/experiments/get-by-name answered without experiment");
        }
    }

    /// <inheritdoc />
    public async Task<MlflowRunInfo> CreateRunAsync(string experimentId, string runName, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default)
    {
        var body = new
        {
            experiment_id = experimentId,
            run_name = runName,
            start_time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            tags,
        };
        // Not sent again when unanswered: the server may have created the run. The tracking writer's next round
        // looks the run up by its run key before it creates one, so a run whose answer was lost is found, not doubled.
        var response = await client.PostAsync<FullRunResponse>("mlflow/runs/create", body, retryUnanswered: false, cancellationToken).ConfigureAwait(false);
        return response.Run?.Info is { RunId.Length: > 0 } info ? info : throw new MlflowException(MlflowErrorCodes.Unknown, "mlflow/runs/create answered without run.info.run_id");
    }

    /// <inheritdoc />
    public async Task UpdateRunAsync(string runId, string status, long? endTime, CancellationToken cancellationToken = default)
    {
        object body = endTime is { } end ? new { run_id = runId, status, end_time = end } : new { run_id = runId, status };
        await client.PostAsync<EmptyResponse>("mlflow/runs/update", body, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<MlflowRun> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        var response = await client.GetAsync<FullRunResponse>("mlflow/runs/get", [new("run_id", runId)], cancellationToken).ConfigureAwait(false);
        return response.Run ?? throw new MlflowException(MlflowErrorCodes.Unknown, "mlflow/runs/get answered without run");
    }

    /// <inheritdoc />
    public async Task<MlflowRunPage> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter, int maxResults, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        var body = new Dictionary<string, object>
        {
            ["experiment_ids"] = experimentIds,
            ["max_results"] = maxResults,
            ["run_view_type"] = "ACTIVE_ONLY",
        };
        if (!string.IsNullOrEmpty(filter))
        {
            body["filter"] = filter;
        }

        if (!string.IsNullOrEmpty(pageToken))
        {
            body["page_token"] = pageToken;
        }

        var response = await client.PostAsync<SearchRunsResponse>("mlflow/runs/search", body, cancellationToken).ConfigureAwait(false);
        return new MlflowRunPage(response.Runs ?? [], string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken);
    }

    /// <inheritdoc />
    public async Task LogBatchAsync(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowKeyValue> parameters, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default)
    {
        foreach (var (m, p, t) in MlflowLimits.Split(metrics, parameters, tags))
        {
            if (m.Count + p.Count + t.Count == 0)
            {
                continue;
            }

            await client.PostAsync<EmptyResponse>("mlflow/runs/log-batch", new { run_id = runId, metrics = m, @params = p, tags = t }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default) =>
        await client.PostAsync<EmptyResponse>("mlflow/runs/set-tag", new { run_id = runId, key, value }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<MlflowMetricPage> GetMetricHistoryAsync(string runId, string metricKey, int maxResults = MlflowLimits.MaxMetricHistoryResults, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        // Always send max_results: without it some MLflow 3.x servers answer with no metrics at all.
        var response = await client.GetAsync<MetricHistoryResponse>("mlflow/metrics/get-history",
            [new("run_id", runId), new("metric_key", metricKey), new("max_results", maxResults.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("page_token", pageToken)],
            cancellationToken).ConfigureAwait(false);
        return new MlflowMetricPage(response.Metrics ?? [], string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken);
    }

    /// <summary>Points <paramref name="alias"/> of a registered model at <paramref name="version"/> (<c>POST registered-models/alias</c>).</summary>
    public async Task SetModelAliasAsync(string name, string alias, string version, CancellationToken cancellationToken = default) =>
        await client.PostAsync<EmptyResponse>("mlflow/registered-models/alias", new { name, alias, version }, cancellationToken).ConfigureAwait(false);

    /// <summary>Sets a tag on a model version (<c>POST model-versions/set-tag</c>), for audit trails.</summary>
    public async Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken = default) =>
        await client.PostAsync<EmptyResponse>("mlflow/model-versions/set-tag", new { name, version, key, value }, cancellationToken).ConfigureAwait(false);
}
