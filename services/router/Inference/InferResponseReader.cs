using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Inference;

namespace Mesh.Router.Inference;

/// <summary>The per-row answers of one ModelInfer call, in the request's row order.</summary>
internal sealed class InferenceOutput(string[] labels, float[] scores, int classCount, string[] classNames, string modelName, string modelVersion)
{
    public int Rows => labels.Length;

    public string ModelName => modelName;

    public string ModelVersion => modelVersion;

    public int ClassCount => classCount;

    public IReadOnlyList<string> ClassNames => classNames;

    public string LabelOf(int row) => labels[row];

    /// <summary>The row's class scores, in the order of <see cref="ClassNames"/>; empty when the model gave none.</summary>
    public ReadOnlySpan<float> ScoresOf(int row) => scores.AsSpan(row * classCount, classCount);
}

/// <summary>
/// Reads an Open Inference Protocol response: a label output (BYTES, each element a 4-byte little-endian length
/// then UTF-8) and a probability output (FP32 <c>[N, C]</c>), from <c>raw_output_contents</c> or typed contents,
/// and the class names from the response parameter <c>class_names</c> (a JSON array string).
/// </summary>
internal static class InferResponseReader
{
    public const string ClassNamesParameter = "class_names";
    private const string Bytes = "BYTES";

    /// <exception cref="InvalidDataException">The response does not hold <paramref name="rows"/> well-formed answers.</exception>
    public static InferenceOutput Read(ModelInferResponse response, int rows)
    {
        string[]? labels = null;
        float[]? scores = null;
        var classCount = 0;
        var useRaw = response.RawOutputContents.Count > 0;
        if (useRaw && response.RawOutputContents.Count != response.Outputs.Count)
        {
            throw new InvalidDataException(
                $"the response has {response.Outputs.Count} outputs but {response.RawOutputContents.Count} raw_output_contents.");
        }

        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            var raw = useRaw ? response.RawOutputContents[i] : null;
            if (labels is null && output.Datatype == Bytes)
            {
                labels = raw is not null ? DecodeBytes(raw.Span, rows, output.Name) : FromContents(output, rows);
            }
            else if (scores is null && output.Datatype == ModelInputShape.Fp32)
            {
                classCount = output.Shape.Count >= 2 ? checked((int)output.Shape[^1]) : 1;
                scores = raw is not null ? DecodeFloats(raw.Span, rows, classCount, output.Name) : FromContents(output, rows, classCount);
            }
        }

        var classNames = ReadClassNames(response);
        if (scores is not null && classNames.Length != 0 && classNames.Length != classCount)
        {
            throw new InvalidDataException($"parameter '{ClassNamesParameter}' names {classNames.Length} classes but the scores have {classCount}.");
        }

        if (labels is null)
        {
            if (scores is null)
            {
                throw new InvalidDataException("the response has neither a BYTES label output nor an FP32 score output.");
            }

            labels = ArgMaxLabels(scores, rows, classCount, classNames);
        }

        return new InferenceOutput(labels, scores ?? [], scores is null ? 0 : classCount, classNames, response.ModelName, response.ModelVersion);
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

    private static float[] DecodeFloats(ReadOnlySpan<byte> raw, int rows, int classCount, string outputName)
    {
        var expected = (long)rows * classCount * sizeof(float);
        if (raw.Length != expected)
        {
            throw new InvalidDataException($"output '{outputName}': {raw.Length} bytes of FP32, expected {expected} for [{rows}, {classCount}].");
        }

        var values = new float[rows * classCount];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
            }
        }

        return values;
    }

    private static string[] FromContents(ModelInferResponse.Types.InferOutputTensor output, int rows)
    {
        var contents = output.Contents?.BytesContents;
        if (contents is null || contents.Count != rows)
        {
            throw new InvalidDataException($"output '{output.Name}': {contents?.Count ?? 0} BYTES elements, expected {rows}.");
        }

        return contents.Select(static b => b.ToStringUtf8()).ToArray();
    }

    private static float[] FromContents(ModelInferResponse.Types.InferOutputTensor output, int rows, int classCount)
    {
        var contents = output.Contents?.Fp32Contents;
        if (contents is null || contents.Count != rows * classCount)
        {
            throw new InvalidDataException($"output '{output.Name}': {contents?.Count ?? 0} FP32 values, expected {rows * classCount}.");
        }

        return contents.ToArray();
    }

    private static string[] ReadClassNames(ModelInferResponse response)
    {
        if (!response.Parameters.TryGetValue(ClassNamesParameter, out var parameter) ||
            parameter.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.StringParam)
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<string[]>(parameter.StringParam) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"parameter '{ClassNamesParameter}' is not a JSON array of strings: {e.Message}", e);
        }
    }

    private static string[] ArgMaxLabels(float[] scores, int rows, int classCount, string[] classNames)
    {
        var labels = new string[rows];
        for (var row = 0; row < rows; row++)
        {
            var span = scores.AsSpan(row * classCount, classCount);
            var best = 0;
            for (var c = 1; c < span.Length; c++)
            {
                if (span[c] > span[best])
                {
                    best = c;
                }
            }

            labels[row] = classNames.Length > best ? classNames[best] : best.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return labels;
    }
}
