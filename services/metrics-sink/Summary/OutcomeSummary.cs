using System.Text.Json.Serialization;

namespace Mesh.MetricsSink.Summary;

/// <summary>One declared outcome of one arm since start (docs/outcomes.md).</summary>
/// <param name="Aggregate"><c>mean</c>, <c>sum</c> or <c>rate</c>: which of the figures is <paramref name="Value"/>.</param>
/// <param name="Count">Joined labels that carried the outcome.</param>
/// <param name="Missing">Joined labels that lacked it (not counted as zero).</param>
/// <param name="Rate">The share of <paramref name="Count"/> above zero.</param>
internal sealed record OutcomeSummary(string Name, string Aggregate, double? Value, long Count, long Missing, double Sum, double? Mean, double? Rate)
{
    /// <summary>The sample variance of the values: the verdict's, not in the JSON.</summary>
    [JsonIgnore]
    public double? Variance { get; init; }

    /// <summary>The bandit rewards the values earned, each in [0, 1]: the reward writer's, not in the JSON.</summary>
    [JsonIgnore]
    public double RewardSum { get; init; }
}
