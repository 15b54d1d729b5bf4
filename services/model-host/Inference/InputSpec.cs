using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Inference;

/// <summary>A model input as the wire sees it: v2 datatype and shape (-1 for open dimensions).</summary>
internal sealed record InputSpec(string Name, string Datatype, TensorElementType ElementType, long[] Shape);
