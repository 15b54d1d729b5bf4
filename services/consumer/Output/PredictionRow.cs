using System.Text.Json.Serialization;
using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>One prediction as a Parquet row (snake_case columns, as in the CSV).</summary>
internal sealed class PredictionRow
{
    [JsonPropertyName("request_id")] public string RequestId { get; set; } = "";
    [JsonPropertyName("entity_id")] public string EntityId { get; set; } = "";
    [JsonPropertyName("experiment")] public string Experiment { get; set; } = "";
    [JsonPropertyName("arm")] public string Arm { get; set; } = "";
    [JsonPropertyName("model_name")] public string ModelName { get; set; } = "";
    [JsonPropertyName("model_version")] public string ModelVersion { get; set; } = "";
    [JsonPropertyName("shadow")] public bool Shadow { get; set; }
    [JsonPropertyName("fallback")] public bool Fallback { get; set; }
    [JsonPropertyName("label")] public string Label { get; set; } = "";
    [JsonPropertyName("value")] public double Value { get; set; }
    [JsonPropertyName("scores")] public List<float> Scores { get; set; } = [];
    [JsonPropertyName("assignment_probability")] public double AssignmentProbability { get; set; }
    [JsonPropertyName("policy_version")] public string PolicyVersion { get; set; } = "";
    [JsonPropertyName("queue_ms")] public double QueueMs { get; set; }
    [JsonPropertyName("inference_ms")] public double InferenceMs { get; set; }
    [JsonPropertyName("end_to_end_ms")] public double EndToEndMs { get; set; }
    [JsonPropertyName("event_time")] public DateTime? EventTime { get; set; }
    [JsonPropertyName("predicted_time")] public DateTime? PredictedTime { get; set; }
    [JsonPropertyName("trace_id")] public string TraceId { get; set; } = "";

    public static PredictionRow From(Prediction p) => new()
    {
        RequestId = p.RequestId,
        EntityId = p.EntityId,
        Experiment = p.Experiment,
        Arm = p.Arm,
        ModelName = p.ModelName,
        ModelVersion = p.ModelVersion,
        Shadow = p.Shadow,
        Fallback = p.Fallback,
        Label = p.Output?.Label ?? "",
        Value = p.Output?.Value ?? 0,
        Scores = p.Output is null ? [] : [.. p.Output.Scores],
        AssignmentProbability = p.AssignmentProbability,
        PolicyVersion = p.PolicyVersion,
        QueueMs = p.Latency?.QueueMs ?? 0,
        InferenceMs = p.Latency?.InferenceMs ?? 0,
        EndToEndMs = p.Latency?.EndToEndMs ?? 0,
        EventTime = p.EventTime?.ToDateTime(),
        PredictedTime = p.PredictedTime?.ToDateTime(),
        TraceId = p.TraceId,
    };
}
