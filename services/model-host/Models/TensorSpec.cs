namespace Mesh.ModelHost.Models;

/// <summary>What a served output carries.</summary>
internal enum OutputKind
{
    /// <summary>An FP32 ONNX output returned as it is.</summary>
    Tensor,

    /// <summary>The class name of the highest probability, as BYTES.</summary>
    ClassLabel,
}

/// <summary>
/// A served output. <paramref name="RunOutputIndex"/> is the ONNX output it is computed from;
/// <paramref name="ElementsPerRow"/> is the element count of one row of that ONNX output.
/// </summary>
internal sealed record OutputSpec(string Name, string Datatype, long[] Shape, OutputKind Kind, int RunOutputIndex, int ElementsPerRow);

/// <summary>The single FP32 <c>[N, Features]</c> input of a served model.</summary>
internal sealed record InputSpec(string Name, int Features)
{
    public string Datatype => "FP32";

    public long[] Shape { get; } = [-1, Features];
}
