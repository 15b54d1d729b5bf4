using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Mesh.ModelHost.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Models;

/// <summary>
/// One model version: its ONNX Runtime session (one per version, shared by all calls; <c>Run</c> is
/// thread-safe) and what it looks like on the wire.
/// </summary>
internal sealed class ServedModel : IDisposable
{
    public const string Platform = "onnxruntime_onnx";
    public const string LabelOutputName = "label";
    public const string ProbabilitiesOutputName = "probabilities";

    // Below this many rows the label winners live on the stack.
    private const int StackRowLimit = 256;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _runOutputNames;
    private readonly long[][] _runOutputRowShapes;
    private readonly int[] _runOutputElementsPerRow;

    // Each class name pre-encoded as one v2 BYTES element (4-byte little-endian length + UTF-8), so
    // encoding N labels is N block copies.
    private readonly byte[][] _encodedClassNames;

    private ServedModel(string name, string version, InferenceSession session, ModelConfigFile? config, string source)
    {
        Name = name;
        Version = version;
        _session = session;

        var inputName = config?.Input?.Name ?? session.InputNames[0];
        if (!session.InputMetadata.TryGetValue(inputName, out var inputMetadata))
        {
            throw new InvalidDataException($"{source}: config.json names the input '{inputName}', the model has {string.Join(", ", session.InputNames)}.");
        }

        if (session.InputNames.Count != 1)
        {
            // A graph input cannot be left unfed, and the wire contract is one FP32 [N, F] input.
            throw new InvalidDataException($"{source}: the model has inputs {string.Join(", ", session.InputNames)}; only models with one FP32 [N, F] input are served.");
        }

        var inputDims = inputMetadata.Dimensions;
        if (inputMetadata.ElementDataType != TensorElementType.Float || inputDims.Length != 2 || inputDims[1] <= 0)
        {
            throw new InvalidDataException($"{source}: input '{inputName}' is {inputMetadata.ElementDataType} [{string.Join(", ", inputDims)}]; expected FP32 [N, F].");
        }

        if (config?.Input?.FeatureNames is { Count: > 0 } featureNames && featureNames.Count != inputDims[1])
        {
            throw new InvalidDataException($"{source}: config.json lists {featureNames.Count} feature names, the input '{inputName}' has {inputDims[1]} features.");
        }

        Input = new InputSpec(inputName, inputDims[1]);
        _inputNames = [inputName];

        if (config is { ProbabilityOutput: { } probabilityOutput, ClassNames: { Count: > 0 } classNames })
        {
            if (!session.OutputMetadata.TryGetValue(probabilityOutput, out var probabilityMetadata))
            {
                throw new InvalidDataException($"{source}: config.json names the probability output '{probabilityOutput}', the model has {string.Join(", ", session.OutputNames)}.");
            }

            var dims = probabilityMetadata.Dimensions;
            if (probabilityMetadata.ElementDataType != TensorElementType.Float || dims.Length != 2 || (dims[1] > 0 && dims[1] != classNames.Count))
            {
                throw new InvalidDataException(
                    $"{source}: output '{probabilityOutput}' is {probabilityMetadata.ElementDataType} [{string.Join(", ", dims)}]; expected FP32 [N, {classNames.Count}] for the {classNames.Count} class names.");
            }

            _runOutputNames = [probabilityOutput];
            _runOutputRowShapes = [[classNames.Count]];
            _runOutputElementsPerRow = [classNames.Count];
            Outputs =
            [
                new OutputSpec(LabelOutputName, "BYTES", [-1], OutputKind.ClassLabel, 0, classNames.Count),
                new OutputSpec(ProbabilitiesOutputName, "FP32", [-1, classNames.Count], OutputKind.Tensor, 0, classNames.Count),
            ];
            ClassNames = [.. classNames];
            ClassNamesJson = JsonSerializer.Serialize(classNames);
            _encodedClassNames = [.. classNames.Select(EncodeBytesElement)];
        }
        else
        {
            // Without a classifier config, serve every FP32 output whose first dimension is the batch.
            var names = new List<string>();
            var rowShapes = new List<long[]>();
            var elements = new List<int>();
            var outputs = new List<OutputSpec>();
            foreach (var (outputName, metadata) in session.OutputMetadata)
            {
                var dims = metadata.Dimensions;
                if (!metadata.IsTensor || metadata.ElementDataType != TensorElementType.Float || dims.Length == 0 || dims[0] > 0 || dims.Skip(1).Any(d => d <= 0))
                {
                    continue;
                }

                var rowShape = dims.Skip(1).Select(d => (long)d).ToArray();
                var perRow = (int)rowShape.Aggregate(1L, (a, b) => a * b);
                outputs.Add(new OutputSpec(outputName, "FP32", [-1, .. rowShape], OutputKind.Tensor, names.Count, perRow));
                names.Add(outputName);
                rowShapes.Add(rowShape);
                elements.Add(perRow);
            }

            if (outputs.Count == 0)
            {
                throw new InvalidDataException($"{source}: the model has no FP32 output shaped [N, ...] and no config.json naming a probability output.");
            }

            _runOutputNames = [.. names];
            _runOutputRowShapes = [.. rowShapes];
            _runOutputElementsPerRow = [.. elements];
            Outputs = outputs;
            _encodedClassNames = [];
        }
    }

    public string Name { get; }

    public string Version { get; }

    public InputSpec Input { get; }

    public IReadOnlyList<OutputSpec> Outputs { get; }

    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The class names as a JSON array, sent as the <c>class_names</c> response parameter.</summary>
    public string? ClassNamesJson { get; }

    public static ServedModel Load(string name, string version, string folder, int intraOpThreads)
    {
        var modelPath = Path.Combine(folder, RepositoryLayout.ModelFileName);
        var config = ModelConfigFile.Read(Path.Combine(folder, RepositoryLayout.ConfigFileName));
        using var sessionOptions = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        var session = new InferenceSession(modelPath, sessionOptions);
        try
        {
            return new ServedModel(name, version, session, config, modelPath);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public OutputSpec? FindOutput(string name)
    {
        foreach (var output in Outputs)
        {
            if (string.Equals(output.Name, name, StringComparison.Ordinal))
            {
                return output;
            }
        }

        return null;
    }

    /// <summary>
    /// Runs the model once over all rows of <paramref name="input"/>. ONNX Runtime writes each output
    /// straight into a new array that becomes the response bytes, so outputs are not copied again.
    /// </summary>
    public byte[][] Run(OrtValue input, int rows)
    {
        var buffers = new byte[_runOutputNames.Length][];
        var pins = new MemoryHandle[buffers.Length];
        var values = new OrtValue[buffers.Length];
        try
        {
            for (var i = 0; i < buffers.Length; i++)
            {
                var length = (long)rows * _runOutputElementsPerRow[i] * sizeof(float);
                buffers[i] = GC.AllocateUninitializedArray<byte>(checked((int)length));
                pins[i] = buffers[i].AsMemory().Pin();
                values[i] = CreateOutputValue(pins[i], rows, _runOutputRowShapes[i], length);
            }

            _session.Run(_runOptions, _inputNames, [input], _runOutputNames, values);
            return buffers;
        }
        finally
        {
            for (var i = 0; i < buffers.Length; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
            }
        }
    }

    /// <summary>Runs a batch of zeros so the first real request does not pay for lazy initialization.</summary>
    public void WarmUp()
    {
        const int Rows = 2;
        var zeros = new float[Rows * Input.Features];
        using var input = OrtValue.CreateTensorValueFromMemory(zeros, [Rows, Input.Features]);
        var outputs = Run(input, Rows);
        if (_encodedClassNames.Length > 0)
        {
            EncodeLabels(outputs[0], Rows);
        }
    }

    /// <summary>The v2 BYTES encoding of the class with the highest probability in each row.</summary>
    public byte[] EncodeLabels(byte[] probabilities, int rows)
    {
        var classes = _encodedClassNames.Length;
        var scores = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(probabilities.AsSpan());
        int[]? rented = null;
        var winners = rows <= StackRowLimit ? stackalloc int[rows] : (rented = ArrayPool<int>.Shared.Rent(rows)).AsSpan(0, rows);
        try
        {
            var total = 0;
            for (var row = 0; row < rows; row++)
            {
                var rowScores = scores.Slice(row * classes, classes);
                var best = 0;
                for (var c = 1; c < classes; c++)
                {
                    if (rowScores[c] > rowScores[best])
                    {
                        best = c;
                    }
                }

                winners[row] = best;
                total += _encodedClassNames[best].Length;
            }

            var encoded = GC.AllocateUninitializedArray<byte>(total);
            var offset = 0;
            foreach (var winner in winners)
            {
                var element = _encodedClassNames[winner];
                element.CopyTo(encoded, offset);
                offset += element.Length;
            }

            return encoded;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static unsafe OrtValue CreateOutputValue(MemoryHandle pin, int rows, long[] rowShape, long length)
    {
        long[] shape = [rows, .. rowShape];
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape, (IntPtr)pin.Pointer, length);
    }

    private static byte[] EncodeBytesElement(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        var element = new byte[sizeof(int) + utf8.Length];
        BinaryPrimitives.WriteInt32LittleEndian(element, utf8.Length);
        utf8.CopyTo(element, sizeof(int));
        return element;
    }
}
