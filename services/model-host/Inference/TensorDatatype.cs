using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Inference;

/// <summary>The Open Inference Protocol datatype names and the ONNX element types they stand for.</summary>
internal static class TensorDatatype
{
    public const string Bytes = "BYTES";

    public static bool TryFromV2(string datatype, out TensorElementType type)
    {
        type = datatype switch
        {
            "BOOL" => TensorElementType.Bool,
            "INT8" => TensorElementType.Int8,
            "INT16" => TensorElementType.Int16,
            "INT32" => TensorElementType.Int32,
            "INT64" => TensorElementType.Int64,
            "UINT8" => TensorElementType.UInt8,
            "UINT16" => TensorElementType.UInt16,
            "UINT32" => TensorElementType.UInt32,
            "UINT64" => TensorElementType.UInt64,
            "FP16" => TensorElementType.Float16,
            "FP32" => TensorElementType.Float,
            "FP64" => TensorElementType.Double,
            Bytes => TensorElementType.String,
            _ => TensorElementType.DataTypeMax,
        };
        return type != TensorElementType.DataTypeMax;
    }

    /// <summary>The v2 name of an ONNX element type, or null when the protocol has none (BFLOAT16, complex, ...).</summary>
    public static string? ToV2(TensorElementType type) => type switch
    {
        TensorElementType.Bool => "BOOL",
        TensorElementType.Int8 => "INT8",
        TensorElementType.Int16 => "INT16",
        TensorElementType.Int32 => "INT32",
        TensorElementType.Int64 => "INT64",
        TensorElementType.UInt8 => "UINT8",
        TensorElementType.UInt16 => "UINT16",
        TensorElementType.UInt32 => "UINT32",
        TensorElementType.UInt64 => "UINT64",
        TensorElementType.Float16 => "FP16",
        TensorElementType.Float => "FP32",
        TensorElementType.Double => "FP64",
        TensorElementType.String => Bytes,
        _ => null,
    };

    /// <summary>Bytes per element in the v2 raw (little-endian) encoding; 0 for BYTES, whose elements are length-prefixed.</summary>
    public static int ElementSize(TensorElementType type) => type switch
    {
        TensorElementType.Bool or TensorElementType.Int8 or TensorElementType.UInt8 => 1,
        TensorElementType.Int16 or TensorElementType.UInt16 or TensorElementType.Float16 => 2,
        TensorElementType.Int32 or TensorElementType.UInt32 or TensorElementType.Float => 4,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Double => 8,
        _ => 0,
    };

    /// <summary>Shape as users read it: <c>[N, 4]</c> for a dynamic first dimension, -1 for other dynamic ones.</summary>
    public static string FormatExpected(IReadOnlyList<long> shape) =>
        "[" + string.Join(", ", shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : i == 0 ? "N" : "-1")) + "]";

    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>How many elements a tensor of this shape holds.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        var count = 1L;
        foreach (var dimension in shape)
        {
            count *= dimension;
        }

        return count;
    }

    /// <summary>The typed contents field that carries a datatype (FP16 has none: it travels raw).</summary>
    public static string TypedField(TensorElementType type) => type switch
    {
        TensorElementType.Bool => "bool_contents",
        TensorElementType.Int8 or TensorElementType.Int16 or TensorElementType.Int32 => "int_contents",
        TensorElementType.Int64 => "int64_contents",
        TensorElementType.UInt8 or TensorElementType.UInt16 or TensorElementType.UInt32 => "uint_contents",
        TensorElementType.UInt64 => "uint64_contents",
        TensorElementType.Float => "fp32_contents",
        TensorElementType.Double => "fp64_contents",
        TensorElementType.String => "bytes_contents",
        _ => "(none: send FP16 in raw_input_contents)",
    };
}
