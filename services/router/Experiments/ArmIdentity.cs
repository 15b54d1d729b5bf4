namespace Mesh.Router.Experiments;

/// <summary>What a Prediction says about the arm that produced it.</summary>
internal sealed record ArmIdentity(string Experiment, string Arm, string Model, string Version, string Endpoint, string ModelUri = "");
