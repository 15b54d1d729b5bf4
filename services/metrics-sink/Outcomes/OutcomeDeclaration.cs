namespace Mesh.MetricsSink.Outcomes;

/// <summary>One outcome an experiment declares: the name a Label's <c>outcomes</c> map carries it under, and its aggregate.</summary>
/// <param name="Index">Its position in the experiment's declaration: the slot its figures take in each arm.</param>
/// <param name="RewardScale">A bandit reward is <c>clamp(value / RewardScale, 0, 1)</c> for a mean or sum outcome
/// (Beta-Bernoulli needs rewards in [0, 1]); a rate outcome's reward is 1 above zero, else 0.</param>
internal sealed record OutcomeDeclaration(string Name, OutcomeAggregate Aggregate, int Index, double RewardScale = 1)
{
    /// <summary>The reward one observed value earns, in [0, 1].</summary>
    public double Reward(double value) => Aggregate == OutcomeAggregate.Rate
        ? (value > 0 ? 1 : 0)
        : Math.Clamp(value / RewardScale, 0, 1);

    public string AggregateName => Aggregate.ToString().ToLowerInvariant();
}
