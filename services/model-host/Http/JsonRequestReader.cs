using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mesh.ModelHost.Inference;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Http;

/// <summary>
/// Reads a v2 JSON inference request: tensors as JSON arrays (row-major, flat or nested), checked per value against
/// the datatype. Forward-only over the buffered body (<see cref="Utf8JsonReader"/>), with no document and no list of
/// elements: a DOM of a 28 MB request took about 500 MB that the shared array pool then kept. Each input's
/// <c>data</c> is skipped on the first pass (its datatype may come after it) and decoded from its slice of the body
/// into the tensor's own buffer once the input's object is read.
/// </summary>
internal static class JsonRequestReader
{
    private const string NeedsInputs = "the request needs an \"inputs\" array";

    /// <summary>Decodes <paramref name="body"/>; a body that is not JSON is an <see cref="InferenceException"/> too.</summary>
    public static InferenceRequest Decode(ReadOnlySequence<byte> body, string name, string version)
    {
        var inputs = new List<InputTensor>();
        var requested = new List<string>();
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw InferenceException.InvalidArgument(NeedsInputs);
            }

            var id = "";
            var sawInputs = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("inputs"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw InferenceException.InvalidArgument(NeedsInputs);
                    }

                    sawInputs = true;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        inputs.Add(ReadInput(ref reader, body, inputs.Count));
                    }
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    reader.Read();
                    ReadRequestedOutputs(ref reader, requested);
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.TokenType == JsonTokenType.String ? reader.GetString()! : Skip(ref reader, "");
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (!sawInputs)
            {
                throw InferenceException.InvalidArgument(NeedsInputs);
            }

            // The id may come after the inputs: the request is made once everything is read.
            return new InferenceRequest(name, version, id, inputs, requested);
        }
        catch (JsonException e)
        {
            inputs.ForEach(i => i.Dispose());
            throw InferenceException.InvalidArgument($"the request body is not JSON: {e.Message}");
        }
        catch
        {
            inputs.ForEach(i => i.Dispose());
            throw;
        }
    }

    private static InputTensor ReadInput(ref Utf8JsonReader reader, ReadOnlySequence<byte> body, int index)
    {
        var where = $"inputs[{index}]";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            throw InferenceException.InvalidArgument($"{where} needs \"name\", a string");
        }

        string? inputName = null;
        string? datatype = null;
        List<long>? shape = null;
        var shapeValid = true;
        ReadOnlySequence<byte>? data = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                inputName = reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip<string?>(ref reader, null);
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                reader.Read();
                datatype = reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip<string?>(ref reader, null);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                reader.Read();
                (shape, shapeValid) = ReadShape(ref reader);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                var start = reader.TokenStartIndex;
                reader.Skip();
                data = body.Slice(start, reader.BytesConsumed - start);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // The checks, in the order a reader of the request would want them named.
        if (inputName is null)
        {
            throw InferenceException.InvalidArgument($"{where} needs \"name\", a string");
        }

        if (datatype is null)
        {
            throw InferenceException.InvalidArgument($"input '{inputName}' needs \"datatype\", a string");
        }
        if (shape is null || !shapeValid)
        {
            throw InferenceException.InvalidArgument($"input '{inputName}' needs \"shape\", an array of integers");
        }

        var input = new InputTensor(inputName, datatype, [.. shape]);
        try
        {
            if (data is { } values && TensorDatatype.TryFromV2(datatype, out var type))
            {
                DecodeData(input, type, values);
            }

            return input;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static (List<long>? Shape, bool Valid) ReadShape(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return (null, false);
        }

        var shape = new List<long>(4);
        var valid = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var dimension))
            {
                shape.Add(dimension);
            }
            else
            {
                valid = false;
                reader.Skip();
            }
        }

        return (shape, valid);
    }

    private static void ReadRequestedOutputs(ref Utf8JsonReader reader, List<string> requested)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            string? outputName = null;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isName = reader.ValueTextEquals("name"u8);
                    reader.Read();
                    outputName = isName && reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip(ref reader, outputName);
                }
            }
            else
            {
                reader.Skip();
            }

            requested.Add(outputName ?? throw InferenceException.InvalidArgument("outputs[] needs \"name\", a string"));
        }
    }

    private static void DecodeData(InputTensor input, TensorElementType type, ReadOnlySequence<byte> data)
    {
        // Flat or nested, row-major: every scalar in document order is the next value. Counted first, so the tensor's
        // buffer is rented once at its size.
        var count = 0;
        var counter = new Utf8JsonReader(data);
        while (counter.Read())
        {
            count += counter.TokenType is JsonTokenType.StartArray or JsonTokenType.EndArray ? 0 : 1;
        }

        var reader = new Utf8JsonReader(data);
        if (type == TensorElementType.String)
        {
            var elements = new ReadOnlyMemory<byte>[count];
            for (var i = 0; i < count; i++)
            {
                NextValue(ref reader);
                elements[i] = reader.TokenType == JsonTokenType.String
                    ? Encoding.UTF8.GetBytes(reader.GetString()!)
                    : throw InferenceException.InvalidArgument($"input '{input.Name}' is BYTES: data[{i}] must be a string");
            }

            input.SetTypedElements(elements, "data");
            return;
        }

        var size = TensorDatatype.ElementSize(type);
        var span = input.RentTyped(count, size, "data");
        for (var i = 0; i < count; i++)
        {
            NextValue(ref reader);
            var slot = span.Slice(i * size, size);
            // TryGet* throws on anything but a number, so a string or null must be caught first.
            var ok = (type == TensorElementType.Bool || reader.TokenType == JsonTokenType.Number) && type switch
            {
                TensorElementType.Bool => reader.TokenType is JsonTokenType.True or JsonTokenType.False && Write(slot, reader.GetBoolean() ? (byte)1 : (byte)0),
                TensorElementType.Int8 => reader.TryGetSByte(out var v) && Write(slot, v),
                TensorElementType.Int16 => reader.TryGetInt16(out var v) && Write(slot, v),
                TensorElementType.Int32 => reader.TryGetInt32(out var v) && Write(slot, v),
                TensorElementType.Int64 => reader.TryGetInt64(out var v) && Write(slot, v),
                TensorElementType.UInt8 => reader.TryGetByte(out var v) && Write(slot, v),
                TensorElementType.UInt16 => reader.TryGetUInt16(out var v) && Write(slot, v),
                TensorElementType.UInt32 => reader.TryGetUInt32(out var v) && Write(slot, v),
                TensorElementType.UInt64 => reader.TryGetUInt64(out var v) && Write(slot, v),
                // A number past a type's finite range would be stored as Infinity: refused like a wrong type.
                TensorElementType.Float16 => reader.TryGetDouble(out var v) && Half.IsFinite((Half)v) && Write(slot, (Half)v),
                TensorElementType.Float => reader.TryGetSingle(out var v) && float.IsFinite(v) && Write(slot, v),
                TensorElementType.Double => reader.TryGetDouble(out var v) && double.IsFinite(v) && Write(slot, v),
                _ => false,
            };
            if (!ok)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' is {input.Datatype}: data[{i}] ({RawText(ref reader)}) is not a {input.Datatype} value");
            }
        }
    }

    // The next scalar, past any array brackets around it.
    private static void NextValue(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType is JsonTokenType.StartArray or JsonTokenType.EndArray)
        {
        }
    }

    // The value as it was written in the request, as a message quotes it (an object or array inside data is named by its kind).
    private static string RawText(ref Utf8JsonReader reader)
    {
        var raw = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
        return reader.TokenType switch
        {
            JsonTokenType.String => "\"" + raw + "\"",
            JsonTokenType.StartObject => "an object",
            _ => raw,
        };
    }

    private static bool Write<T>(Span<byte> slot, T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(slot, in value);
        return true;
    }

    // A property of the wrong kind: skipped, and the fallback kept.
    private static T Skip<T>(ref Utf8JsonReader reader, T fallback)
    {
        reader.Skip();
        return fallback;
    }
}
