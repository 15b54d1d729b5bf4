using Mesh.Router.Inference;

namespace Mesh.Router.Routing;

/// <summary>A model host's answer for a batch (<see cref="Output"/>), or why there is none (<see cref="Failure"/>).</summary>
internal readonly record struct ArmCallResult(InferenceOutput? Output, double InferenceMs, string Failure);
