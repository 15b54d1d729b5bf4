using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Serving;

/// <summary>
/// Checks request inputs against a model version before it runs, naming the tensor and what was expected:
/// names, datatypes, shapes, element counts and, where the model refuses them, non-finite values.
/// </summary>
internal static class InputValidator
{
    /// <summary>Checks the request inputs against the model and returns them in the model's input order, with the batch size.</summary>
    public static (InputTensor[] Inputs, long Rows) Validate(ServedModel model, List<InputTensor> requestInputs, int maxRows)
    {
        if (requestInputs.Count != model.Inputs.Count)
        {
            var described = string.Join(", ", model.Inputs.Select(i => $"'{i.Name}' {i.Datatype} {TensorDatatype.FormatExpected(i.Shape)}"));
            throw InferenceException.InvalidArgument($"model '{model.Name}' takes {model.Inputs.Count} input(s) ({described}); the request has {requestInputs.Count}");
        }

        var ordered = new InputTensor[model.Inputs.Count];
        var rows = 1L;
        foreach (var input in requestInputs)
        {
            var spec = model.FindInput(input.Name)
                ?? throw InferenceException.InvalidArgument(
                    $"input '{input.Name}' is not an input of model '{model.Name}' version '{model.Version}'; expected {string.Join(", ", model.Inputs.Select(i => $"'{i.Name}'"))}");
            var index = IndexOf(model, spec);
            if (ordered[index] is not null)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' appears more than once");
            }

            ordered[index] = input;
            if (!string.Equals(input.Datatype, spec.Datatype, StringComparison.Ordinal))
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has datatype '{input.Datatype}'; expected {spec.Datatype}");
            }

            var shapeMatches = input.Shape.Length == spec.Shape.Length;
            for (var d = 0; shapeMatches && d < spec.Shape.Length; d++)
            {
                shapeMatches = spec.Shape[d] < 0 ? input.Shape[d] >= 1 : input.Shape[d] == spec.Shape[d];
            }

            if (!shapeMatches)
            {
                throw InferenceException.InvalidArgument(
                    $"input '{input.Name}' has shape {TensorDatatype.Format(input.Shape)}; expected {TensorDatatype.FormatExpected(spec.Shape)} with N >= 1");
            }

            if (input.Shape.Length > 0 && input.Shape[0] > maxRows)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has {input.Shape[0]} rows; at most {maxRows} per call (ModelHost:MaxBatchRows)");
            }

            if (index == 0 && input.Shape.Length > 0)
            {
                rows = input.Shape[0];
            }

            ValidateData(input, spec);
            if (!model.AcceptsNonFinite)
            {
                RejectNonFinite(model, input, spec);
            }
        }

        return (ordered, rows);
    }

    private static void ValidateData(InputTensor input, InputSpec spec)
    {
        var elements = 1L;
        foreach (var dimension in input.Shape)
        {
            elements *= dimension;
        }
        if (!input.HasData)
        {
            throw InferenceException.InvalidArgument($"input '{input.Name}' has no data; set raw_input_contents or contents.{TensorDatatype.TypedField(spec.ElementType)}");
        }

        if (spec.ElementType == TensorElementType.String)
        {
            input.Elements ??= SplitBytes(input);
            if (input.Elements.Length != elements)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has {input.Elements.Length} values in {input.Source}; expected {elements} ({TensorDatatype.Format(input.Shape)} BYTES)");
            }

            return;
        }

        if (input.ValueCount is { } count)
        {
            if (count != elements)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has {count} values in {input.Source}; expected {elements} ({TensorDatatype.Format(input.Shape)} {spec.Datatype})");
            }

            return;
        }

        var expectedBytes = elements * TensorDatatype.ElementSize(spec.ElementType);
        if (input.Data.Length != expectedBytes)
        {
            throw InferenceException.InvalidArgument(
                $"input '{input.Name}' has {input.Data.Length} bytes in {input.Source}; expected {expectedBytes} ({TensorDatatype.Format(input.Shape)} {spec.Datatype}, little-endian)");
        }
    }

    private static void RejectNonFinite(ServedModel model, InputTensor input, InputSpec spec)
    {
        var (index, value) = spec.ElementType switch
        {
            TensorElementType.Float => IndexOfNonFinite(MemoryMarshal.Cast<byte, float>(input.Data.Span), FirstBlockWithNonFinite(MemoryMarshal.Cast<byte, uint>(input.Data.Span))),
            TensorElementType.Double => IndexOfNonFinite(MemoryMarshal.Cast<byte, double>(input.Data.Span), 0),
            TensorElementType.Float16 => IndexOfNonFinite(MemoryMarshal.Cast<byte, Half>(input.Data.Span), 0),
            _ => (-1, ""),
        };
        if (index >= 0)
        {
            var perRow = Math.Max(1, TensorDatatype.ElementCount(input.Shape.AsSpan(Math.Min(1, input.Shape.Length))));
            throw InferenceException.InvalidArgument(
                $"input '{input.Name}' has {value} at element {index} (row {index / perRow}); model '{model.Name}' does not take non-finite values (acceptNonFinite in its config.json)");
        }
    }

    /// <summary>
    /// Where the first vector-wide block holding a NaN or an infinity starts (the length when none does): a float is
    /// non-finite exactly when its exponent bits are all ones, which a vector compares for many values at once, so
    /// the element-by-element search only runs from there.
    /// </summary>
    private static int FirstBlockWithNonFinite(ReadOnlySpan<uint> bits)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var exponent = new Vector<uint>(0x7F80_0000u);
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & exponent, exponent))
                {
                    return i;
                }
            }
        }

        return i;
    }

    private static (int Index, string Value) IndexOfNonFinite<T>(ReadOnlySpan<T> values, int from)
        where T : IFloatingPointIeee754<T>
    {
        for (var i = from; i < values.Length; i++)
        {
            var value = values[i];
            if (!T.IsFinite(value))
            {
                return (i, T.IsNaN(value) ? "NaN" : T.IsPositive(value) ? "+Infinity" : "-Infinity");
            }
        }

        return (-1, "");
    }

    // v2 raw BYTES: each element is a 4-byte little-endian length followed by that many bytes.
    private static ReadOnlyMemory<byte>[] SplitBytes(InputTensor input)
    {
        var elements = new List<ReadOnlyMemory<byte>>();
        var data = input.Data;
        var offset = 0;
        while (offset < data.Length)
        {
            if (data.Length - offset < sizeof(int))
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}': {input.Source} ends inside the 4-byte length of element {elements.Count}");
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(data.Span[offset..]);
            if (length < 0 || length > data.Length - offset - sizeof(int))
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}': element {elements.Count} of {input.Source} claims {length} bytes, {data.Length - offset - sizeof(int)} remain");
            }

            elements.Add(data.Slice(offset + sizeof(int), length));
            offset += sizeof(int) + length;
        }

        return [.. elements];
    }

    private static int IndexOf(ServedModel model, InputSpec spec)
    {
        for (var i = 0; i < model.Inputs.Count; i++)
        {
            if (ReferenceEquals(model.Inputs[i], spec))
            {
                return i;
            }
        }

        return -1;
    }
}
