using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Mesh.ModelHost.Batching;
using Mesh.ModelHost.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Models;

/// <summary>
/// Runs one model version's ONNX Runtime session (one per version, shared by all calls; <c>Run</c> is
/// thread-safe): request bytes go in pinned, outputs come back in the v2 raw encoding. Owns the session.
/// </summary>
internal sealed class OnnxRunner(InferenceSession session, ModelSignature signature) : IModelSession
{
    /// <summary>Rows on the batch dimension of the warm-up run, so it shows whether outputs follow it.</summary>
    public const long WarmUpRows = 2;

    private readonly RunOptions _runOptions = new();

    // Outputs are written straight into arrays that become the response bytes while every output is
    // [N, fixed...]; the warm-up run turns this off when ONNX Runtime disagrees.
    private volatile bool _preallocate = signature.RunOutputRowShapes is not null;

    /// <summary>Runs the model once. <paramref name="inputs"/> are validated and in the order of the signature's inputs.</summary>
    public RunOutput[] Run(IReadOnlyList<InputTensor> inputs)
    {
        var values = new OrtValue[inputs.Count];
        var pins = new MemoryHandle[inputs.Count];
        try
        {
            CreateInputValues(signature.Inputs, inputs, values, pins);
            return RunValues(values, inputs[0].Shape[0]);
        }
        finally
        {
            DisposeInputValues(values, pins);
        }
    }

    /// <summary>
    /// Runs the model on values already in ONNX Runtime's hands (a previous chain step's outputs), in the order of
    /// the signature's inputs; <paramref name="rows"/> is the batch dimension.
    /// </summary>
    public RunOutput[] RunValues(IReadOnlyCollection<OrtValue> values, long rows) =>
        _preallocate ? RunPreallocated(values, rows) : RunAllocated(values);

    /// <summary>Wraps validated request tensors as ONNX Runtime values without copying them (strings excepted); free them with <see cref="DisposeInputValues"/>.</summary>
    public static void CreateInputValues(IReadOnlyList<InputSpec> specs, IReadOnlyList<InputTensor> inputs, OrtValue[] values, MemoryHandle[] pins)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            values[i] = CreateInputValue(specs[i], inputs[i], ref pins[i]);
        }
    }

    public static void DisposeInputValues(OrtValue[] values, MemoryHandle[] pins)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i]?.Dispose();
            pins[i].Dispose();
        }
    }

    /// <summary>
    /// Runs zeros (empty strings) through the model so the first real request does not pay for lazy
    /// initialization, and checks that outputs can be written into preallocated buffers.
    /// </summary>
    public RunOutput[] WarmUp() => WarmUp(signature.Inputs, Run);

    /// <summary>
    /// The warm-up of a model whose outputs this runner writes but whose inputs are <paramref name="specs"/> and run
    /// through <paramref name="run"/> (a chain ending with this model).
    /// </summary>
    public RunOutput[] WarmUp(IReadOnlyList<InputSpec> specs, Func<IReadOnlyList<InputTensor>, RunOutput[]> run)
    {
        var inputs = new List<InputTensor>();
        try
        {
            foreach (var spec in specs)
            {
                long[] shape = [.. spec.Shape.Select((d, i) => d >= 0 ? d : i == 0 ? WarmUpRows : 1L)];
                var count = TensorDatatype.ElementCount(shape);
                var tensor = new InputTensor(spec.Name, spec.Datatype, shape);
                if (spec.ElementType == TensorElementType.String)
                {
                    tensor.SetTypedElements([.. Enumerable.Repeat(ReadOnlyMemory<byte>.Empty, (int)count)], "warm-up");
                }
                else
                {
                    tensor.RentTyped(count, TensorDatatype.ElementSize(spec.ElementType), "warm-up").Clear();
                }

                inputs.Add(tensor);
            }

            try
            {
                return run(inputs);
            }
            catch (OnnxRuntimeException) when (_preallocate)
            {
                // Some output is not [N, fixed...] after all: let ONNX Runtime size the outputs.
                _preallocate = false;
                return run(inputs);
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }
    }

    public void Dispose()
    {
        session.Dispose();
        _runOptions.Dispose();
    }

    private RunOutput[] RunPreallocated(IReadOnlyCollection<OrtValue> inputs, long rows)
    {
        var rowShapes = signature.RunOutputRowShapes!;
        var types = signature.RunOutputTypes;
        var results = new RunOutput[signature.RunOutputNames.Length];
        var values = new OrtValue[results.Length];
        var pins = new MemoryHandle[results.Length];
        try
        {
            for (var i = 0; i < results.Length; i++)
            {
                long[] shape = [rows, .. rowShapes[i]];
                var length = TensorDatatype.ElementCount(shape) * TensorDatatype.ElementSize(types[i]);
                var buffer = GC.AllocateUninitializedArray<byte>(checked((int)length));
                pins[i] = buffer.AsMemory().Pin();
                values[i] = CreateValue(pins[i], types[i], shape, length);
                results[i] = new RunOutput(shape, buffer, null);
            }

            session.Run(_runOptions, signature.InputNames, inputs, signature.RunOutputNames, values);
            return results;
        }
        finally
        {
            for (var i = 0; i < results.Length; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
            }
        }
    }

    private RunOutput[] RunAllocated(IReadOnlyCollection<OrtValue> inputs)
    {
        using var values = session.Run(_runOptions, signature.InputNames, inputs, signature.RunOutputNames);
        var results = new RunOutput[values.Count];
        var index = 0;
        foreach (var value in values)
        {
            results[index++] = value.OnnxType == OnnxValueType.ONNX_TYPE_SEQUENCE ? ReadZipMap(value) : ReadTensor(value);
        }

        return results;
    }

    private static RunOutput ReadTensor(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        if (!info.IsString)
        {
            return new RunOutput(info.Shape, value.GetTensorMutableRawData().ToArray(), null);
        }

        var count = checked((int)info.ElementCount);
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            total += sizeof(int) + value.GetStringElementAsSpan(i).Length;
        }

        var encoded = GC.AllocateUninitializedArray<byte>(total);
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            var element = value.GetStringElementAsSpan(i);
            BinaryPrimitives.WriteInt32LittleEndian(encoded.AsSpan(offset), element.Length);
            element.CopyTo(encoded.AsSpan(offset + sizeof(int)));
            offset += sizeof(int) + element.Length;
        }

        return new RunOutput(info.Shape, encoded, null);
    }

    // ZipMap gives one map per row, keyed by class label (ONNX Runtime keeps map keys sorted, the same
    // order in every row); values become one row of a [N, classes] tensor.
    private static RunOutput ReadZipMap(OrtValue sequence)
    {
        var allocator = OrtAllocator.DefaultInstance;
        var rows = sequence.GetValueCount();
        string[]? labels = null;
        byte[] data = [];
        var rowBytes = 0;
        for (var row = 0; row < rows; row++)
        {
            using var map = sequence.GetValue(row, allocator);
            using var keys = map.GetValue(0, allocator);
            using var scores = map.GetValue(1, allocator);
            var bytes = scores.GetTensorMutableRawData();
            if (labels is null)
            {
                labels = keys.GetTensorTypeAndShape().IsString
                    ? keys.GetStringTensorAsArray()
                    : [.. keys.GetTensorDataAsSpan<long>().ToArray().Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture))];
                rowBytes = bytes.Length;
                data = GC.AllocateUninitializedArray<byte>(checked(rows * rowBytes));
            }

            if (bytes.Length != rowBytes)
            {
                throw new InvalidDataException($"row {row} of a ZipMap output has {bytes.Length} bytes of scores; the first row had {rowBytes}.");
            }

            bytes.CopyTo(data.AsSpan(row * rowBytes));
        }

        var classes = labels?.Length ?? 0;
        return new RunOutput([rows, classes], data, labels ?? []);
    }

    private static unsafe OrtValue CreateInputValue(InputSpec spec, InputTensor input, ref MemoryHandle pin)
    {
        if (spec.ElementType == TensorElementType.String)
        {
            var elements = input.Elements!;
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, input.Shape);
            for (var i = 0; i < elements.Length; i++)
            {
                value.StringTensorSetElementAt(elements[i].Span, i);
            }

            return value;
        }

        // The request bytes are the tensor: pin them and let ONNX Runtime read them in place. The v2 raw
        // encoding is little-endian, as are the platforms ONNX Runtime ships for.
        pin = MemoryMarshal.AsMemory(input.Data).Pin();
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, spec.ElementType, input.Shape, (IntPtr)pin.Pointer, input.Data.Length);
    }

    private static unsafe OrtValue CreateValue(MemoryHandle pin, TensorElementType type, long[] shape, long length) =>
        OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, (IntPtr)pin.Pointer, length);
}
