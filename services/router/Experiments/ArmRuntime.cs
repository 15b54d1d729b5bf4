using Inference;
using Mesh.Router.Bandits;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Inference;
using Mesh.Router.RateLimiting;
using Mesh.Router.Resilience;

namespace Mesh.Router.Routing;

/// <summary>What a Prediction says about the arm that produced it.</summary>
internal sealed record ArmIdentity(string Experiment, string Arm, string Model, string Version, string Endpoint);

/// <summary>
/// One record on its way to one arm, with the probability, policy version and prediction context its assignment was
/// made with (they change when weights or bandit state change, so they travel with the record, not with the arm).
/// </summary>
internal readonly record struct ArmRequest(RoutedRecord Record, double Probability, string PolicyVersion, PredictionContext Context, EnsembleJoin? Join = null, int Member = 0);

/// <summary>
/// One arm (or shadow) at run time: its model client, its model's input shape, its micro-batcher and its circuit
/// breaker. Kept across spec reloads and weight changes for as long as the arm's model and endpoint stay the same.
/// </summary>
internal sealed class ArmRuntime(ArmIdentity identity, GRPCInferenceService.GRPCInferenceServiceClient client, ModelInputShape input, bool isShadow, TimeSpan callTimeout, CircuitBreaker breaker)
{
    public ArmIdentity Identity => identity;

    public GRPCInferenceService.GRPCInferenceServiceClient Client => client;

    public ModelInputShape Input => input;

    public bool IsShadow => isShadow;

    public TimeSpan CallTimeout => callTimeout;

    public CircuitBreaker Breaker => breaker;

    /// <summary>Metric tags, built once per arm rather than per batch.</summary>
    public KeyValuePair<string, object?>[] Tags { get; } =
    [
        new("experiment", identity.Experiment),
        new("arm", identity.Arm),
    ];

    public MicroBatcher<ArmRequest> Batcher { get; set; } = null!;

    /// <summary>Two arm definitions with the same key can share one runtime.</summary>
    public static string KeyOf(string experiment, ArmDefinition arm, bool isShadow, TimeSpan callTimeout) =>
        $"{experiment}\n{arm.Name}\n{arm.Endpoint.TrimEnd('/')}\n{arm.Model}\n{arm.Version}\n{isShadow}\n{callTimeout.Ticks}";
}

internal enum ExperimentStrategy
{
    Ab,
    Bandit,
    Ensemble,
}

internal enum EnsembleCombine
{
    Mean,
    WeightedMean,
    Vote,
}

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
}

/// <summary>All experiments, as one immutable set the consume thread reads with one volatile load per record.</summary>
internal sealed class ExperimentSet(IReadOnlyList<ExperimentRuntime> experiments)
{
    private readonly Dictionary<string, ExperimentRuntime[]> _byTopic = experiments
        .GroupBy(e => e.InputTopic, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    public static ExperimentSet Empty { get; } = new([]);

    public IReadOnlyList<ExperimentRuntime> All => experiments;

    public IReadOnlyCollection<string> InputTopics => _byTopic.Keys;

    public IReadOnlyList<ExperimentRuntime> ForTopic(string topic) => _byTopic.TryGetValue(topic, out var found) ? found : [];

    public ExperimentRuntime? Find(string name) => experiments.FirstOrDefault(e => e.Name == name);
}
