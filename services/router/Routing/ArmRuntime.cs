using Inference;
using Mesh.Router.Batching;
using Mesh.Router.Inference;

namespace Mesh.Router.Routing;

/// <summary>What a Prediction says about the arm that produced it.</summary>
internal sealed record ArmIdentity(string Experiment, string Arm, string Model, string Version, string Endpoint, double AssignmentProbability, string PolicyVersion);

/// <summary>One arm at run time: its model client, its model's input shape and its micro-batcher.</summary>
internal sealed class ArmRuntime(ArmIdentity identity, GRPCInferenceService.GRPCInferenceServiceClient client, ModelInputShape input)
{
    public ArmIdentity Identity => identity;

    public GRPCInferenceService.GRPCInferenceServiceClient Client => client;

    public ModelInputShape Input => input;

    /// <summary>Metric tags, built once per arm rather than per batch.</summary>
    public KeyValuePair<string, object?>[] Tags { get; } =
    [
        new("experiment", identity.Experiment),
        new("arm", identity.Arm),
    ];

    public MicroBatcher<RoutedRecord> Batcher { get; set; } = null!;
}

/// <summary>An experiment at run time: the assigner and the arms in the spec's order.</summary>
internal sealed record ExperimentRuntime(string Name, Experiments.ArmAssigner Assigner, IReadOnlyList<ArmRuntime> Arms);
