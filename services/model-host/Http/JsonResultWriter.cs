using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Mesh.ModelHost.Grpc;
using Mesh.ModelHost.Inference;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Http;

/// <summary>Writes a v2 JSON inference response: outputs as flat JSON arrays in the raw encoding's order (finite numbers only: see <see cref="FindNonFinite"/>).</summary>
internal static class JsonResultWriter
{
    public static void WriteResult(Utf8JsonWriter writer, InferenceResult result)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name", result.ModelName);
        writer.WriteString("model_version", result.ModelVersion);
        writer.WriteString("id", result.Id);
        if (result.ClassNamesJson is not null)
        {
            writer.WriteStartObject("parameters");
            writer.WriteString(InferenceService.ClassNamesParameter, result.ClassNamesJson);
            writer.WriteEndObject();
        }

        writer.WriteStartArray("outputs");
        foreach (var output in result.Outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", output.Datatype);
            writer.WriteStartArray("shape");
            foreach (var dim in output.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            WriteData(writer, output);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteData(Utf8JsonWriter writer, OutputTensor output)
    {
        var data = output.Data.AsSpan();
        TensorDatatype.TryFromV2(output.Datatype, out var type);
        switch (type)
        {
            case TensorElementType.String:
                while (!data.IsEmpty)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                    writer.WriteStringValue(data.Slice(sizeof(int), length));
                    data = data[(sizeof(int) + length)..];
                }

                break;
            case TensorElementType.Bool:
                foreach (var b in data)
                {
                    writer.WriteBooleanValue(b != 0);
                }

                break;
            case TensorElementType.Int8: Numbers(writer, MemoryMarshal.Cast<byte, sbyte>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Int16: Numbers(writer, MemoryMarshal.Cast<byte, short>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Int32: Numbers(writer, MemoryMarshal.Cast<byte, int>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Int64: Numbers(writer, MemoryMarshal.Cast<byte, long>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt8: Numbers(writer, data, static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt16: Numbers(writer, MemoryMarshal.Cast<byte, ushort>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt32: Numbers(writer, MemoryMarshal.Cast<byte, uint>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.UInt64: Numbers(writer, MemoryMarshal.Cast<byte, ulong>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Float16: Numbers(writer, MemoryMarshal.Cast<byte, Half>(data), static (w, v) => w.WriteNumberValue((double)v)); break;
            case TensorElementType.Float: Numbers(writer, MemoryMarshal.Cast<byte, float>(data), static (w, v) => w.WriteNumberValue(v)); break;
            case TensorElementType.Double: Numbers(writer, MemoryMarshal.Cast<byte, double>(data), static (w, v) => w.WriteNumberValue(v)); break;
        }
    }

    /// <summary>
    /// JSON numbers cannot be NaN or ±Infinity, and this server refuses the strings some servers write
    /// instead ("NaN"), so it does not send them either: the first non-finite output value, or null.
    /// </summary>
    public static string? FindNonFinite(InferenceResult result)
    {
        foreach (var output in result.Outputs)
        {
            TensorDatatype.TryFromV2(output.Datatype, out var type);
            var index = type switch
            {
                TensorElementType.Float16 => IndexOfNonFinite(MemoryMarshal.Cast<byte, Half>(output.Data)),
                TensorElementType.Float => IndexOfNonFinite(MemoryMarshal.Cast<byte, float>(output.Data)),
                TensorElementType.Double => IndexOfNonFinite(MemoryMarshal.Cast<byte, double>(output.Data)),
                _ => -1,
            };
            if (index >= 0)
            {
                return $"output '{output.Name}' of model '{result.ModelName}' version '{result.ModelVersion}' has a non-finite value (NaN or Infinity) at element {index}, "
                    + "which JSON cannot carry; call ModelInfer over gRPC, whose raw contents carry it";
            }
        }

        return null;
    }

    private static int IndexOfNonFinite<T>(ReadOnlySpan<T> values)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private delegate void NumberWriter<T>(Utf8JsonWriter writer, T value);

    private static void Numbers<T>(Utf8JsonWriter writer, ReadOnlySpan<T> values, NumberWriter<T> write)
    {
        foreach (var value in values)
        {
            write(writer, value);
        }
    }
}
