using System.Text.Json.Serialization;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>The columns of the consumer's Parquet files that evaluation reads (snake_case, as the consumer writes them).</summary>
internal sealed class LoggedPredictionRow
{
    [JsonPropertyName("request_id")] public string RequestId { get; set; } = "";
    [JsonPropertyName("experiment")] public string Experiment { get; set; } = "";
    [JsonPropertyName("arm")] public string Arm { get; set; } = "";
    [JsonPropertyName("shadow")] public bool Shadow { get; set; }
    [JsonPropertyName("fallback")] public bool Fallback { get; set; }
    [JsonPropertyName("label")] public string Label { get; set; } = "";
    [JsonPropertyName("scores")] public List<float> Scores { get; set; } = [];
    [JsonPropertyName("assignment_probability")] public double AssignmentProbability { get; set; }

    public LoggedPrediction ToLogged() => new(RequestId, Experiment, Arm, Shadow, Fallback, Label, Scores, AssignmentProbability);
}
