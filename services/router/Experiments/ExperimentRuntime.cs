using Mesh.Router.Bandits;
using Mesh.Router.RateLimiting;

namespace Mesh.Router.Experiments;

/// <summary>
/// An experiment at run time, immutable: a weight change or a reload builds a new one (sharing the arms) and
/// swaps it in, so the consume thread never sees a half-changed experiment.
/// </summary>
internal sealed record ExperimentRuntime(
    string Name,
    ExperimentStrategy Strategy,
    ExperimentDefinition Definition,
    string InputTopic,
    string PredictionsTopic,
    string ShadowTopic,
    IReadOnlyList<ArmRuntime> Arms,
    IReadOnlyList<ArmRuntime> Shadows,
    ArmRuntime? Fallback,
    ArmAssigner? Assigner,
    BanditPolicy? Bandit,
    EnsembleCombine Combine,
    double[] EnsembleWeights,
    TokenBucket? RateLimiter,
    ExperimentContexts Contexts)
{
    public string PolicyVersion => Assigner?.PolicyVersion ?? Bandit?.PolicyVersion ?? "ensemble-" + Combine.ToString().ToLowerInvariant();

    public double ProbabilityOf(int arm) => Assigner?.ProbabilityOf(arm) ?? Bandit?.ProbabilityOf(arm) ?? 1.0;

    /// <summary>Whether the chosen arm (-1: every member of the ensemble) takes NaN and ±Infinity features.</summary>
    public bool AcceptsNonFinite(int arm) =>
        Definition.AcceptNonFinite || (arm >= 0 ? Definition.Arms[arm].AcceptNonFinite : Definition.Arms.TrueForAll(a => a.AcceptNonFinite));

    /// <summary>Whether a shadow takes NaN and ±Infinity features.</summary>
    public bool ShadowAcceptsNonFinite(int shadow) => Definition.AcceptNonFinite || Definition.Shadows[shadow].AcceptNonFinite;

    /// <summary>
    /// Chooses the arm for one record: sticky by <paramref name="stickyKey"/> for <c>ab</c>, sampled for a bandit,
    /// every member (index -1) for an ensemble.
    /// </summary>
    public ArmChoice Choose(string stickyKey, Random random)
    {
        switch (Strategy)
        {
            case ExperimentStrategy.Bandit:
                var index = Bandit!.Choose(random, out var probability, out var policy);
                return new ArmChoice(index, probability, policy);
            case ExperimentStrategy.Ensemble:
                return new ArmChoice(-1, 1, PolicyVersion);
            default:
                var assigned = Assigner!.Assign(stickyKey);
                return new ArmChoice(assigned, Assigner.ProbabilityOf(assigned), Assigner.PolicyVersion);
        }
    }
}
