namespace Mesh.ModelHost.Inference;

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
