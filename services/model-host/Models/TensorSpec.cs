using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Models;

/// <summary>What a served output carries.</summary>
internal enum OutputKind
{
    /// <summary>An ONNX tensor output returned as it is.</summary>
    Tensor,

    /// <summary>The class name of the highest probability (config.json classifiers), as BYTES.</summary>
    ClassLabel,

    /// <summary>A scikit-learn-style ZipMap output (a sequence of maps) turned into a <c>[N, classes]</c> tensor.</summary>
    ZipMap,
}

/// <summary>
/// A served output. <paramref name="RunOutputIndex"/> is the ONNX output it is computed from. The shape
/// uses -1 for dimensions the model leaves open.
/// </summary>
internal sealed record OutputSpec(string Name, string Datatype, long[] Shape, OutputKind Kind, int RunOutputIndex);

/// <summary>A model input as the wire sees it: v2 datatype and shape (-1 for open dimensions).</summary>
internal sealed record InputSpec(string Name, string Datatype, TensorElementType ElementType, long[] Shape);
