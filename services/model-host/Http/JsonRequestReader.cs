using System.Runtime.InteropServices;
using System.Text.Json;
using Mesh.ModelHost.Inference;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Http;

/// <summary>Reads a v2 JSON inference request: tensors as JSON arrays (row-major, flat or nested), checked per value against the datatype.</summary>
internal static class JsonRequestReader
{
    public static InferenceRequest Decode(JsonElement root, string name, string version)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputsElement) || inputsElement.ValueKind != JsonValueKind.Array)
        {
            throw InferenceException.InvalidArgument("the request needs an \"inputs\" array");
        }

        var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : "";
        var requested = new List<string>();
        if (root.TryGetProperty("outputs", out var outputsElement) && outputsElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var output in outputsElement.EnumerateArray())
            {
                requested.Add(RequiredString(output, "name", "outputs[]"));
            }
        }

        var inputs = new List<InputTensor>();
        var request = new InferenceRequest(name, version, id, inputs, requested);
        try
        {
            var index = 0;
            foreach (var element in inputsElement.EnumerateArray())
            {
                var where = $"inputs[{index++}]";
                var inputName = RequiredString(element, "name", where);
                var datatype = RequiredString(element, "datatype", $"input '{inputName}'");
                if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
                    || shapeElement.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out _)))
                {
                    throw InferenceException.InvalidArgument($"input '{inputName}' needs \"shape\", an array of integers");
                }

                var input = new InputTensor(inputName, datatype, [.. shapeElement.EnumerateArray().Select(d => d.GetInt64())]);
                inputs.Add(input);
                if (element.TryGetProperty("data", out var data) && TensorDatatype.TryFromV2(datatype, out var type))
                {
                    DecodeData(input, type, data);
                }
            }

            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static void DecodeData(InputTensor input, TensorElementType type, JsonElement data)
    {
        var values = new List<JsonElement>();
        Flatten(data, values);
        if (type == TensorElementType.String)
        {
            var elements = new ReadOnlyMemory<byte>[values.Count];
            for (var i = 0; i < elements.Length; i++)
            {
                elements[i] = values[i].ValueKind == JsonValueKind.String
                    ? System.Text.Encoding.UTF8.GetBytes(values[i].GetString()!)
                    : throw InferenceException.InvalidArgument($"input '{input.Name}' is BYTES: data[{i}] must be a string");
            }

            input.SetTypedElements(elements, "data");
            return;
        }

        var size = TensorDatatype.ElementSize(type);
        var span = input.RentTyped(values.Count, size, "data");
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var slot = span.Slice(i * size, size);
            // TryGet* throws on anything but a number, so a string or null must be caught first.
            var ok = (type == TensorElementType.Bool || value.ValueKind == JsonValueKind.Number) && type switch
            {
                TensorElementType.Bool => value.ValueKind is JsonValueKind.True or JsonValueKind.False && Write(slot, value.GetBoolean() ? (byte)1 : (byte)0),
                TensorElementType.Int8 => value.TryGetSByte(out var v) && Write(slot, v),
                TensorElementType.Int16 => value.TryGetInt16(out var v) && Write(slot, v),
                TensorElementType.Int32 => value.TryGetInt32(out var v) && Write(slot, v),
                TensorElementType.Int64 => value.TryGetInt64(out var v) && Write(slot, v),
                TensorElementType.UInt8 => value.TryGetByte(out var v) && Write(slot, v),
                TensorElementType.UInt16 => value.TryGetUInt16(out var v) && Write(slot, v),
                TensorElementType.UInt32 => value.TryGetUInt32(out var v) && Write(slot, v),
                TensorElementType.UInt64 => value.TryGetUInt64(out var v) && Write(slot, v),
                // A number past a type's finite range would be stored as Infinity: refused like a wrong type.
                TensorElementType.Float16 => value.TryGetDouble(out var v) && Half.IsFinite((Half)v) && Write(slot, (Half)v),
                TensorElementType.Float => value.TryGetSingle(out var v) && float.IsFinite(v) && Write(slot, v),
                TensorElementType.Double => value.TryGetDouble(out var v) && double.IsFinite(v) && Write(slot, v),
                _ => false,
            };
            if (!ok)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' is {input.Datatype}: data[{i}] ({value.GetRawText()}) is not a {input.Datatype} value");
            }
        }
    }

    private static bool Write<T>(Span<byte> slot, T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(slot, in value);
        return true;
    }

    private static void Flatten(JsonElement element, List<JsonElement> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(element);
        }
    }

    private static string RequiredString(JsonElement element, string property, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw InferenceException.InvalidArgument($"{where} needs \"{property}\", a string");
}
