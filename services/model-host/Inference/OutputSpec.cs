namespace Mesh.ModelHost.Inference;

/// <summary>
/// A served output. <paramref name="RunOutputIndex"/> is the ONNX output it is computed from. The shape
/// uses -1 for dimensions the model leaves open.
/// </summary>
internal sealed record OutputSpec(string Name, string Datatype, long[] Shape, OutputKind Kind, int RunOutputIndex);
