namespace Mesh.MetricsSink.Outcomes;

/// <summary>What one experiment declares about its outcomes (docs/outcomes.md).</summary>
/// <param name="Declared">The outcomes aggregated per arm, in the spec's order.</param>
/// <param name="Reward">The outcome whose reward the bandit learns from; null: correct predictions (reward 1).</param>
/// <param name="Verdict">The outcome the verdict and the promotion guard compare arms on; null: accuracy.</param>
/// <param name="VerdictEffectSize">The difference in the verdict outcome's mean the test is tuned to find fastest, in its units; null: <c>MetricsSink:VerdictEffectSize</c>.</param>
internal sealed record ExperimentOutcomes(
    IReadOnlyList<OutcomeDeclaration> Declared,
    OutcomeDeclaration? Reward,
    OutcomeDeclaration? Verdict,
    double? VerdictEffectSize)
{
    public static readonly ExperimentOutcomes None = new([], null, null, null);
}
