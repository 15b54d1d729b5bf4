using System.Text.Json.Serialization;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// The event on the alerts topic (<c>MetricsSink:AlertsTopic</c>) when a feature of an arm starts drifting
/// (<c>raised</c>) and when it stops (<c>resolved</c>): JSON, not protobuf, because its readers are outside the mesh
/// (a pager's webhook bridge, a retraining job, <c>kcat</c>) and it is rare (at most one per feature and window), so
/// a schema-free text anyone can read is worth more than its size. Key: <c>experiment/arm</c>. docs/drift.md.
/// </summary>
internal sealed record DriftAlert(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("experiment")] string Experiment,
    [property: JsonPropertyName("arm")] string Arm,
    [property: JsonPropertyName("shadow")] bool Shadow,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("feature")] string Feature,
    [property: JsonPropertyName("psi")] double? Psi,
    [property: JsonPropertyName("threshold")] double Threshold,
    [property: JsonPropertyName("ks_statistic")] double? KsStatistic,
    [property: JsonPropertyName("ks_p_value")] double? KsPValue,
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("window")] long Window,
    [property: JsonPropertyName("time")] DateTimeOffset Time)
{
    public const string EventType = "mesh.drift_alert.v1";

    public const string Raised = "raised";

    public const string Resolved = "resolved";

    /// <summary><see cref="Kind"/> of an input feature's drift (<see cref="Feature"/> names it).</summary>
    public const string FeatureKind = "feature";

    /// <summary><see cref="Kind"/> of the predicted classes' drift (<see cref="Feature"/> empty).</summary>
    public const string PredictionKind = "prediction";
}
