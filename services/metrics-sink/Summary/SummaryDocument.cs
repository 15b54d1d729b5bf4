using System.Text.Json;
using Mesh.MetricsSink.Verdicts;

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
    IReadOnlyList<ExperimentSummary> Experiments)
{
    /// <summary>The router's dead letters that name no arm (each arm's own are in its <see cref="ArmSummary.DeadLetters"/>).</summary>
    public UnattributedDeadLetterSummary? UnattributedDeadLetters { get; init; }
}

/// <param name="WithoutExperiment">Records the router dead-lettered before choosing any experiment's arm (decode, validation).</param>
/// <param name="ByExperiment">Dead letters that name an experiment but no arm.</param>
internal sealed record UnattributedDeadLetterSummary(long WithoutExperiment, IReadOnlyDictionary<string, long> ByExperiment);

internal sealed record ExperimentSummary(string Experiment, IReadOnlyList<ArmSummary> Arms, ExperimentVerdict? Verdict = null);

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
    long Fallbacks)
{
    // Added after the first contract: init-only, so the positional shape others construct stays as it was.
    public double LatencyP95Ms { get; init; }

    /// <summary>Mean −ln p(true class), over joined predictions that carried class scores; null when none did.</summary>
    public double? LogLoss { get; init; }

    /// <summary>Over joined predictions whose prediction and label are both numbers; null when none were.</summary>
    public double? Rmse { get; init; }

    public double? Mae { get; init; }

    public double? FallbackRate { get; init; }

    /// <summary>For shadows: the share of requests where the shadow answered as the primary did.</summary>
    public double? ShadowAgreement { get; init; }

    /// <summary>Records the router dead-lettered after choosing this arm.</summary>
    public long DeadLetters { get; init; }

    /// <summary>Dead letters / (predictions + dead letters); null for shadows and for an arm that saw neither.</summary>
    public double? DeadLetterRate { get; init; }
}

internal static class SummaryJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string Serialize(SummaryDocument document) => JsonSerializer.Serialize(document, s_options);

    public static SummaryDocument? Deserialize(string json) => JsonSerializer.Deserialize<SummaryDocument>(json, s_options);
}
