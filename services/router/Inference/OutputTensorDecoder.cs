using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Inference;
using OutputTensor = Inference.ModelInferResponse.Types.InferOutputTensor;

namespace Mesh.Router.Inference;

/// <summary>
/// Decodes one output tensor, from its <c>raw_output_contents</c> bytes (read in place, little-endian as the protocol
/// says) or from its typed contents, into what a Prediction carries: a label per row, or FP32 scores.
/// </summary>
internal static class OutputTensorDecoder
{
    // Numeric labels without class names are written as their number: the small ones are the common case.
    private static readonly string[] s_smallNumbers = [.. Enumerable.Range(0, 64).Select(static i => i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>One label per row: BYTES as text; INT64 and INT32 as an index into <paramref name="classNames"/>, or as their number when there are none.</summary>
    public static string[] Labels(OutputTensor output, ByteString? raw, int rows, string[] classNames)
    {
        switch (output.Datatype)
        {
            case OutputDatatypes.Bytes:
                return raw is not null ? DecodeBytes(raw.Span, rows, output.Name) : BytesContents(output, rows);
            case OutputDatatypes.Int64:
                return NumericLabels(output, raw, rows, classNames, output.Contents?.Int64Contents, static span => BinaryPrimitives.ReadInt64LittleEndian(span));
            case OutputDatatypes.Int32:
                return NumericLabels(output, raw, rows, classNames, output.Contents?.IntContents, static span => BinaryPrimitives.ReadInt32LittleEndian(span));
            default:
                throw new InvalidDataException($"output '{output.Name}' is {output.Datatype}; a label output must be {OutputDatatypes.LabelTypes}.");
        }
    }

    /// <summary><paramref name="count"/> FP32 or FP64 values (FP64 narrowed to FP32, as a Prediction carries them).</summary>
    public static float[] Scores(OutputTensor output, ByteString? raw, int count)
    {
        var values = new float[count];
        switch (output.Datatype)
        {
            case OutputDatatypes.Fp32 when raw is not null:
            {
                var span = Expect(raw.Span, count, sizeof(float), output);
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(span).CopyTo(values);
                }
                else
                {
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(i * sizeof(float))..]);
                    }
                }

                break;
            }

            case OutputDatatypes.Fp32:
                Expect(output.Contents?.Fp32Contents, count, output).CopyTo(values, 0);
                break;
            case OutputDatatypes.Fp64 when raw is not null:
            {
                var span = Expect(raw.Span, count, sizeof(double), output);
                for (var i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(span[(i * sizeof(double))..]);
                }

                break;
            }

            case OutputDatatypes.Fp64:
            {
                var contents = Expect(output.Contents?.Fp64Contents, count, output);
                for (var i = 0; i < count; i++)
                {
                    values[i] = (float)contents[i];
                }

                break;
            }

            default:
                throw new InvalidDataException($"output '{output.Name}' is {output.Datatype}; a scores output must be {OutputDatatypes.ScoreTypes}.");
        }

        return values;
    }

    /// <summary>Decodes exactly <paramref name="count"/> length-prefixed UTF-8 strings, the whole buffer and nothing more.</summary>
    public static string[] DecodeBytes(ReadOnlySpan<byte> raw, int count, string outputName)
    {
        var values = new string[count];
        for (var i = 0; i < count; i++)
        {
            if (raw.Length < sizeof(uint))
            {
                throw new InvalidDataException($"output '{outputName}': BYTES element {i} of {count} is missing.");
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw);
            raw = raw[sizeof(uint)..];
            if (length > (uint)raw.Length)
            {
                throw new InvalidDataException($"output '{outputName}': BYTES element {i} claims {length} bytes, {raw.Length} remain.");
            }

            values[i] = Encoding.UTF8.GetString(raw[..(int)length]);
            raw = raw[(int)length..];
        }

        if (!raw.IsEmpty)
        {
            throw new InvalidDataException($"output '{outputName}': {raw.Length} bytes left after {count} BYTES elements.");
        }

        return values;
    }

    /// <summary>The class at <paramref name="index"/>, or the number as text when the arm has no class names.</summary>
    public static string LabelOf(long index, string[] classNames, string outputName)
    {
        if (classNames.Length == 0)
        {
            return index is >= 0 and < 64 ? s_smallNumbers[index] : index.ToString(CultureInfo.InvariantCulture);
        }

        if (index < 0 || index >= classNames.Length)
        {
            throw new InvalidDataException($"output '{outputName}': label {index} is not the index of one of the {classNames.Length} classes ({string.Join(", ", classNames)}).");
        }

        return classNames[index];
    }

    // INT64 and INT32 labels alike: from the raw little-endian bytes, or from the typed contents.
    private static string[] NumericLabels<T>(OutputTensor output, ByteString? raw, int rows, string[] classNames, IList<T>? contents, ReadElement read)
        where T : struct, IBinaryInteger<T>
    {
        var labels = new string[rows];
        if (raw is not null)
        {
            var size = Unsafe.SizeOf<T>();
            var span = Expect(raw.Span, rows, size, output);
            for (var i = 0; i < rows; i++)
            {
                labels[i] = LabelOf(read(span[(i * size)..]), classNames, output.Name);
            }
        }
        else
        {
            var typed = Expect(contents, rows, output);
            for (var i = 0; i < rows; i++)
            {
                labels[i] = LabelOf(long.CreateTruncating(typed[i]), classNames, output.Name);
            }
        }

        return labels;
    }

    private delegate long ReadElement(ReadOnlySpan<byte> bytes);

    private static string[] BytesContents(OutputTensor output, int rows)
    {
        var contents = Expect(output.Contents?.BytesContents, rows, output);
        var values = new string[rows];
        for (var i = 0; i < rows; i++)
        {
            values[i] = contents[i].ToStringUtf8();
        }

        return values;
    }

    private static ReadOnlySpan<byte> Expect(ReadOnlySpan<byte> raw, int count, int size, OutputTensor output)
    {
        var expected = (long)count * size;
        if (raw.Length != expected)
        {
            throw new InvalidDataException($"output '{output.Name}': {raw.Length} bytes of {output.Datatype}, expected {expected} for {count} values.");
        }

        return raw;
    }

    private static IList<T> Expect<T>(IList<T>? contents, int count, OutputTensor output)
    {
        if (contents is null || contents.Count != count)
        {
            throw new InvalidDataException($"output '{output.Name}': {contents?.Count ?? 0} {output.Datatype} values, expected {count}.");
        }

        return contents;
    }
}
