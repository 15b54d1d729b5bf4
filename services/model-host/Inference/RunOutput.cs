namespace Mesh.ModelHost.Inference;

/// <summary>One ONNX output of a run: its shape and bytes in the v2 raw encoding; ZipMap outputs also carry their class labels.</summary>
internal sealed record RunOutput(long[] Shape, byte[] Data, string[]? ClassLabels);
