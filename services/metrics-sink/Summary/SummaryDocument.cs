using System.Text.Json;

namespace Mesh.MetricsSink.Summary;

/// <summary><c>summary.json</c> exactly as docs/internal-contracts.md pins it (camelCase on the wire).</summary>
internal sealed record SummaryDocument(
    DateTime Updated,
    long Predictions,
    long Labels,
    long Joined,
    long DuplicatePredictions,
    long UnmatchedLabels,
    long PendingPredictions,
    long PendingLabels,
    IReadOnlyList<ExperimentSummary> Experiments);

internal sealed record ExperimentSummary(string Experiment, IReadOnlyList<ArmSummary> Arms);

internal sealed record ArmSummary(
    string Arm,
    string Model,
    string Version,
    bool Shadow,
    long Predictions,
    long Joined,
    long Correct,
    double Accuracy,
    double LatencyP50Ms,
    double LatencyP99Ms,
    long Fallbacks);

internal static class SummaryJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string Serialize(SummaryDocument document) => JsonSerializer.Serialize(document, s_options);

    public static SummaryDocument? Deserialize(string json) => JsonSerializer.Deserialize<SummaryDocument>(json, s_options);
}
