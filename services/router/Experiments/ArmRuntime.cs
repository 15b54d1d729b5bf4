using Inference;
using Mesh.Router.Inference;
using Mesh.Router.Resilience;

namespace Mesh.Router.Experiments;

/// <summary>
/// One arm (or shadow) at run time: its model client, its model's input shape, its output contract and its circuit breaker. Kept across
/// spec reloads and weight changes for as long as the arm's model and endpoint stay the same (its micro-batcher,
/// owned by the routing side, is keyed by this instance).
/// </summary>
internal sealed class ArmRuntime(ArmIdentity identity, GRPCInferenceService.GRPCInferenceServiceClient client, ModelInputShape input, FeatureOrder? features, OutputContract outputs, OutputPostProcessor? postProcessor, bool isShadow, TimeSpan callTimeout, CircuitBreaker breaker, ArmContractWatch contract)
{
    private volatile bool _hostUnreachable;
    private volatile bool _retired;

    public ArmIdentity Identity => identity;

    public GRPCInferenceService.GRPCInferenceServiceClient Client => client;

    public ModelInputShape Input => input;

    /// <summary>The model's columns by name, which records with names are mapped to; null when nothing names them (records go by position).</summary>
    public FeatureOrder? Features => features;

    /// <summary>Which outputs of the server's answers are the label and the scores, settled when the arm started.</summary>
    public OutputContract Outputs => outputs;

    /// <summary>The arm's <c>postProcess:</c>, settled against <see cref="Outputs"/>; null when it has none.</summary>
    public OutputPostProcessor? PostProcessor => postProcessor;

    public bool IsShadow => isShadow;

    public TimeSpan CallTimeout => callTimeout;

    public CircuitBreaker Breaker => breaker;

    /// <summary>Checks each model version the server answers with against the contract checked at start.</summary>
    public ArmContractWatch Contract => contract;

    /// <summary>
    /// Whether the last call found no host to talk to (connection refused or reset), as opposed to a host that
    /// answered: while it holds, an arm with no fallback waits out its open circuit instead of dead-lettering.
    /// </summary>
    public bool HostUnreachable
    {
        get => _hostUnreachable;
        set => _hostUnreachable = value;
    }

    /// <summary>
    /// Whether a reload left this arm in no experiment: no new record is routed to it, and its batcher is drained and
    /// disposed by its owner once the records already in it are done.
    /// </summary>
    public bool Retired => _retired;

    /// <summary>Marks the arm <see cref="Retired"/>; only the registry that built it calls this.</summary>
    public void Retire() => _retired = true;

    /// <summary>Metric tags, built once per arm rather than per batch; also the arm's identity in the gauges it reports.</summary>
    public KeyValuePair<string, object?>[] Tags { get; } =
    [
        new("experiment", identity.Experiment),
        new("arm", identity.Arm),
    ];

    /// <summary>Two arm definitions with the same key can share one runtime.</summary>
    public static string KeyOf(string experiment, ArmDefinition arm, bool isShadow, TimeSpan callTimeout, IReadOnlyList<string>? features) =>
        $"{experiment}\n{arm.Name}\n{arm.Endpoint.TrimEnd('/')}\n{arm.Model}\n{arm.Version}\n{arm.ModelUri}\n{isShadow}\n{callTimeout.Ticks}\n" +
        $"{arm.Outputs?.Label}\n{arm.Outputs?.Scores}\n{string.Join("\u001f", arm.Classes ?? [])}\n{string.Join("\u001f", features ?? [])}\n{arm.PostProcess?.Key()}";
}
