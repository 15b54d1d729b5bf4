using System.Text.Json.Serialization;

namespace Mesh.Mlflow;

/// <summary>One metric value (<c>Metric</c> in the MLflow REST API): <paramref name="Timestamp"/> in Unix milliseconds.</summary>
/// <param name="Key">The metric's name.</param>
/// <param name="Value">Its value.</param>
/// <param name="Timestamp">When it was measured, Unix milliseconds.</param>
/// <param name="Step">The step (here: the window index).</param>
public sealed record MlflowMetric(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("timestamp")] long Timestamp,
    [property: JsonPropertyName("step")] long Step);

/// <summary>A key and a value: a run's param or tag (<c>Param</c>, <c>RunTag</c> in the MLflow REST API).</summary>
/// <param name="Key">The name.</param>
/// <param name="Value">The value.</param>
public sealed record MlflowKeyValue(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] string Value);

/// <summary>An experiment (<c>Experiment</c> in the MLflow REST API).</summary>
public sealed class MlflowExperiment
{
    /// <summary>Its id (a string).</summary>
    [JsonPropertyName("experiment_id")]
    public string ExperimentId { get; set; } = "";

    /// <summary>Its unique name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary><c>active</c> or <c>deleted</c>.</summary>
    [JsonPropertyName("lifecycle_stage")]
    public string? LifecycleStage { get; set; }
}

/// <summary>A run's metadata (<c>RunInfo</c>).</summary>
public sealed class MlflowRunInfo
{
    /// <summary>The run's id.</summary>
    [JsonPropertyName("run_id")]
    public string RunId { get; set; } = "";

    /// <summary>Its experiment.</summary>
    [JsonPropertyName("experiment_id")]
    public string ExperimentId { get; set; } = "";

    /// <summary>Its display name.</summary>
    [JsonPropertyName("run_name")]
    public string? RunName { get; set; }

    /// <summary><c>RUNNING</c>, <c>SCHEDULED</c>, <c>FINISHED</c>, <c>FAILED</c> or <c>KILLED</c>.</summary>
    [JsonPropertyName("status")]
    public string? Status { get; set; }

    /// <summary>Start, Unix milliseconds.</summary>
    [JsonPropertyName("start_time")]
    public long? StartTime { get; set; }

    /// <summary>End, Unix milliseconds.</summary>
    [JsonPropertyName("end_time")]
    public long? EndTime { get; set; }
}

/// <summary>A run's logged data (<c>RunData</c>): the latest value of each metric, params and tags.</summary>
public sealed class MlflowRunData
{
    /// <summary>The latest value of each metric.</summary>
    [JsonPropertyName("metrics")]
    public List<MlflowMetric>? Metrics { get; set; }

    /// <summary>Params.</summary>
    [JsonPropertyName("params")]
    public List<MlflowKeyValue>? Params { get; set; }

    /// <summary>Tags.</summary>
    [JsonPropertyName("tags")]
    public List<MlflowKeyValue>? Tags { get; set; }
}

/// <summary>A run (<c>Run</c>): its info and its data.</summary>
public sealed class MlflowRun
{
    /// <summary>Metadata.</summary>
    [JsonPropertyName("info")]
    public MlflowRunInfo Info { get; set; } = new();

    /// <summary>Logged data.</summary>
    [JsonPropertyName("data")]
    public MlflowRunData Data { get; set; } = new();

    /// <summary>The value of tag <paramref name="key"/>, or null.</summary>
    public string? Tag(string key) => Data.Tags?.LastOrDefault(t => t.Key == key)?.Value;
}

/// <summary>One page of <c>runs/search</c>; <see cref="NextPageToken"/> is null on the last.</summary>
/// <param name="Runs">The runs on this page.</param>
/// <param name="NextPageToken">The token of the next page.</param>
public sealed record MlflowRunPage(IReadOnlyList<MlflowRun> Runs, string? NextPageToken);

/// <summary>One page of <c>metrics/get-history</c>.</summary>
/// <param name="Metrics">Values of the metric, in logging order.</param>
/// <param name="NextPageToken">The token of the next page.</param>
public sealed record MlflowMetricPage(IReadOnlyList<MlflowMetric> Metrics, string? NextPageToken);

/// <summary>Run statuses MLflow accepts in <c>runs/update</c>.</summary>
public static class MlflowRunStatus
{
    /// <summary>Running.</summary>
    public const string Running = "RUNNING";

    /// <summary>Finished.</summary>
    public const string Finished = "FINISHED";

    /// <summary>Failed.</summary>
    public const string Failed = "FAILED";

    /// <summary>Killed.</summary>
    public const string Killed = "KILLED";
}

internal sealed class ExperimentResponse
{
    [JsonPropertyName("experiment")]
    public MlflowExperiment? Experiment { get; set; }
}

internal sealed class CreateExperimentResponse
{
    [JsonPropertyName("experiment_id")]
    public string? ExperimentId { get; set; }
}

internal sealed class FullRunResponse
{
    [JsonPropertyName("run")]
    public MlflowRun? Run { get; set; }
}

internal sealed class SearchRunsResponse
{
    [JsonPropertyName("runs")]
    public List<MlflowRun>? Runs { get; set; }

    [JsonPropertyName("next_page_token")]
    public string? NextPageToken { get; set; }
}

internal sealed class MetricHistoryResponse
{
    [JsonPropertyName("metrics")]
    public List<MlflowMetric>? Metrics { get; set; }

    [JsonPropertyName("next_page_token")]
    public string? NextPageToken { get; set; }
}

internal sealed class EmptyResponse
{
}
