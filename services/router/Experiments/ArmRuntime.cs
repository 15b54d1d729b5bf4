using Inference;
using Mesh.Router.Inference;
using Mesh.Router.Resilience;

namespace Mesh.Router.Experiments;

/// <summary>
/// One arm (or shadow) at run time: its model client, its model's input shape and its circuit breaker. Kept across
/// spec reloads and weight changes for as long as the arm's model and endpoint stay the same (its micro-batcher,
/// owned by the routing side, is keyed by this instance).
/// </summary>
internal sealed class ArmRuntime(ArmIdentity identity, GRPCInferenceService.GRPCInferenceServiceClient client, ModelInputShape input, bool isShadow, TimeSpan callTimeout, CircuitBreaker breaker)
{
    private volatile bool _hostUnreachable;

    public ArmIdentity Identity => identity;

    public GRPCInferenceService.GRPCInferenceServiceClient Client => client;

    public ModelInputShape Input => input;

    public bool IsShadow => isShadow;

    public TimeSpan CallTimeout => callTimeout;

    public CircuitBreaker Breaker => breaker;

    /// <summary>
    /// Whether the last call found no host to talk to (connection refused or reset), as opposed to a host that
    /// answered: while it holds, an arm with no fallback waits out its open circuit instead of dead-lettering.
    /// </summary>
    public bool HostUnreachable
    {
        get => _hostUnreachable;
        set => _hostUnreachable = value;
    }

    /// <summary>Metric tags, built once per arm rather than per batch.</summary>
    public KeyValuePair<string, object?>[] Tags { get; } =
    [
        new("experiment", identity.Experiment),
        new("arm", identity.Arm),
    ];

    /// <summary>Two arm definitions with the same key can share one runtime.</summary>
    public static string KeyOf(string experiment, ArmDefinition arm, bool isShadow, TimeSpan callTimeout) =>
        $"{experiment}\n{arm.Name}\n{arm.Endpoint.TrimEnd('/')}\n{arm.Model}\n{arm.Version}\n{arm.ModelUri}\n{isShadow}\n{callTimeout.Ticks}";
}
