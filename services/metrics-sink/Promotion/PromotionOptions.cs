using System.ComponentModel.DataAnnotations;

namespace Mesh.MetricsSink.Promotion;

/// <summary>
/// When a winner may be promoted (<c>MetricsSink:Promote*</c>, beside <c>MetricsSink:PromoteWinner</c>) and under
/// which registered model each served model lives (<c>MetricsSink:ModelUris</c>).
/// </summary>
internal sealed class PromotionOptions
{
    /// <summary>Joined outcomes the winner and every arm it is compared with must each have.</summary>
    [Range(1, 100_000_000, ErrorMessage = "MetricsSink:PromoteMinSamples must be between 1 and 100,000,000.")]
    public int PromoteMinSamples { get; set; } = 500;

    /// <summary>How much slower (p99 latency, as a fraction: 0.25 = 25%) the winner may be than the champion.</summary>
    [Range(0.0, 100.0, ErrorMessage = "MetricsSink:PromoteMaxLatencyP99Increase must be between 0 and 100 (a fraction: 0.25 = 25% slower).")]
    public double PromoteMaxLatencyP99Increase { get; set; } = 0.25;

    /// <summary>How much higher (absolute: 0.01 = one point) the winner's dead-letter rate may be than the champion's.</summary>
    [Range(0.0, 1.0, ErrorMessage = "MetricsSink:PromoteMaxDeadLetterRateIncrease must be between 0 and 1.")]
    public double PromoteMaxDeadLetterRateIncrease { get; set; } = 0.01;

    /// <summary>
    /// The MLflow model URI each served model name is loaded from, as the model host is configured
    /// (<c>iris-boosted: models:/iris@challenger</c>): the registered model a promotion moves the alias of. Overrides
    /// the arm's <c>modelUri</c> from the experiment spec (carried on its Predictions); a served name in neither is
    /// taken to be its registered name.
    /// </summary>
    public Dictionary<string, string> ModelUris { get; set; } = new(StringComparer.Ordinal);
}
