using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
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

    private const long WarmUpRows = 2;

    // Below this many rows the label winners live on the stack.
    private const int StackRowLimit = 256;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _runOutputNames;
    private readonly TensorElementType[] _runOutputTypes;

    // Per ONNX output, the shape of one batch row when every output is [N, fixed...]: then ONNX Runtime
    // writes straight into arrays that become the response bytes. Null when outputs cannot be sized ahead.
    private readonly long[][]? _runOutputRowShapes;
    private volatile bool _preallocate;

    // True when every input is [N, fixed...] and every output's first dimension follows N, so requests
    // can be stacked along N into one run and split back (checked again by the warm-up run).
    private bool _canBatch;
    private DynamicBatcher? _batcher;
    private ModelHostTelemetry? _telemetry;

    // Each class name pre-encoded as one v2 BYTES element (4-byte little-endian length + UTF-8), so
    // encoding N labels is N block copies.
    private byte[][] _encodedClassNames = [];

    private int _leases;
    private int _retired;
    private int _disposed;

    private ServedModel(string name, string version, InferenceSession session, ModelConfigFile? config, string source, IReadOnlyList<SignatureTensor>? signature)
    {
        Name = name;
        Version = version;
        _session = session;

        var inputs = new List<InputSpec>();
        foreach (var (inputName, metadata) in session.InputMetadata)
        {
            var datatype = metadata.IsTensor ? TensorDatatype.ToV2(metadata.ElementDataType) : null;
            if (datatype is null)
            {
                throw new InvalidDataException($"{source}: input '{inputName}' is {Describe(metadata)}, which the Open Inference Protocol cannot carry.");
            }

            inputs.Add(new InputSpec(inputName, datatype, metadata.ElementDataType, ToWireShape(metadata.Dimensions)));
        }

        Inputs = signature is null ? inputs : ApplySignature(inputs, signature, source);
        _inputNames = [.. inputs.Select(i => i.Name)];

        if (config?.Input?.Name is { } configInput && FindInput(configInput) is null)
        {
            throw new InvalidDataException($"{source}: config.json names the input '{configInput}', the model has {string.Join(", ", _inputNames)}.");
        }

        if (config?.Input?.FeatureNames is { Count: > 0 } featureNames
            && FindInput(config.Input.Name ?? _inputNames[0]) is { Shape: [_, var features] } featureInput
            && featureNames.Count != features)
        {
            throw new InvalidDataException($"{source}: config.json lists {featureNames.Count} feature names, the input '{featureInput.Name}' has {features} features.");
        }

        var outputs = new List<OutputSpec>();
        var runNames = new List<string>();
        var runTypes = new List<TensorElementType>();
        if (config is { ProbabilityOutput: { } probabilityOutput, ClassNames: { Count: > 0 } classNames })
        {
            if (!session.OutputMetadata.TryGetValue(probabilityOutput, out var probabilityMetadata))
            {
                throw new InvalidDataException($"{source}: config.json names the probability output '{probabilityOutput}', the model has {string.Join(", ", session.OutputNames)}.");
            }

            var dims = probabilityMetadata.Dimensions;
            if (!probabilityMetadata.IsTensor || probabilityMetadata.ElementDataType != TensorElementType.Float || dims.Length != 2 || (dims[1] > 0 && dims[1] != classNames.Count))
            {
                throw new InvalidDataException(
                    $"{source}: output '{probabilityOutput}' is {Describe(probabilityMetadata)}; expected FP32 [N, {classNames.Count}] for the {classNames.Count} class names.");
            }

            runNames.Add(probabilityOutput);
            runTypes.Add(TensorElementType.Float);
            outputs.Add(new OutputSpec(LabelOutputName, TensorDatatype.Bytes, [-1], OutputKind.ClassLabel, 0));
            outputs.Add(new OutputSpec(ProbabilitiesOutputName, "FP32", [-1, classNames.Count], OutputKind.Tensor, 0));
            SetClassNames(classNames);
        }
        else
        {
            foreach (var (outputName, metadata) in session.OutputMetadata)
            {
                if (metadata.IsTensor && TensorDatatype.ToV2(metadata.ElementDataType) is { } datatype)
                {
                    outputs.Add(new OutputSpec(outputName, datatype, ToWireShape(metadata.Dimensions), OutputKind.Tensor, runNames.Count));
                    runNames.Add(outputName);
                    runTypes.Add(metadata.ElementDataType);
                }
                else if (ZipMapValueType(metadata) is { } valueType)
                {
                    // The class count is learnt from the warm-up run: the maps carry the labels.
                    outputs.Add(new OutputSpec(outputName, TensorDatatype.ToV2(valueType)!, [-1, -1], OutputKind.ZipMap, runNames.Count));
                    runNames.Add(outputName);
                    runTypes.Add(valueType);
                }
                else
                {
                    throw new InvalidDataException($"{source}: output '{outputName}' is {Describe(metadata)}, which the Open Inference Protocol cannot carry.");
                }
            }
        }

        Outputs = outputs;
        _runOutputNames = [.. runNames];
        _runOutputTypes = [.. runTypes];

        var batched = Inputs.All(i => i.Shape is [< 0, ..]);
        var rowShapes = new long[_runOutputNames.Length][];
        for (var i = 0; i < rowShapes.Length && batched; i++)
        {
            var metadata = session.OutputMetadata[_runOutputNames[i]];
            var dims = metadata.IsTensor ? metadata.Dimensions : [];
            batched = metadata.IsTensor && !metadata.IsString && dims.Length >= 1 && dims[0] < 0 && dims.Skip(1).All(d => d > 0);
            rowShapes[i] = batched ? [.. dims.Skip(1).Select(d => (long)d)] : [];
        }

        _runOutputRowShapes = batched ? rowShapes : null;
        _preallocate = batched;
        _canBatch = Inputs.All(i => i.Shape is [< 0, ..] && i.Shape.Skip(1).All(d => d > 0))
            && _runOutputNames.All(n => session.OutputMetadata[n] is var m && (!m.IsTensor || m.Dimensions is [< 0, ..]));
    }

    public string Name { get; }

    public string Version { get; }

    public IReadOnlyList<InputSpec> Inputs { get; }

    public IReadOnlyList<OutputSpec> Outputs { get; }

    public IReadOnlyList<string>? ClassNames { get; private set; }

    /// <summary>Requests with NaN in a floating-point input are refused (<c>ModelHost:RejectNaN</c>, <c>rejectNaN</c> in config.json).</summary>
    public bool RejectNaN { get; private init; }

    /// <summary>The class names as a JSON array, sent as the <c>class_names</c> response parameter.</summary>
    public string? ClassNamesJson { get; private set; }

    /// <summary>Whether concurrent requests to this version are coalesced into one run.</summary>
    public bool IsBatching => _batcher is not null;

    public static ServedModel Load(
        string name,
        string version,
        string folder,
        ModelSessionSettings settings,
        BatchingSettings batching,
        ModelHostTelemetry telemetry,
        MlmodelFile? mlmodel = null)
    {
        var modelPath = Path.Combine(folder, mlmodel?.OnnxModelFile ?? RepositoryLayout.ModelFileName);
        var configPath = Path.Combine(folder, RepositoryLayout.ConfigFileName);
        var config = ModelConfigFile.Read(configPath);
        settings = config?.SessionSettings(settings, configPath) ?? settings;
        batching = config?.DynamicBatching?.Apply(batching, configPath) ?? batching;
        using var sessionOptions = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = settings.IntraOpThreads,
            InterOpNumThreads = settings.InterOpThreads,
            ExecutionMode = settings.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = settings.GraphOptimizationLevel,
        };
        var session = new InferenceSession(modelPath, sessionOptions);
        try
        {
            var model = new ServedModel(name, version, session, config, modelPath, mlmodel?.Inputs) { _telemetry = telemetry, RejectNaN = settings.RejectNaN };
            try
            {
                model.WarmUp();
                if (batching.Enabled && model._canBatch)
                {
                    model._batcher = new DynamicBatcher(model, batching, telemetry);
                }

                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public InputSpec? FindInput(string name)
    {
        foreach (var input in Inputs)
        {
            if (string.Equals(input.Name, name, StringComparison.Ordinal))
            {
                return input;
            }
        }

        return null;
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
    /// Runs the model once. <paramref name="inputs"/> are validated and in the order of <see cref="Inputs"/>.
    /// Returns, per ONNX output, its shape and its bytes in the v2 raw encoding.
    /// </summary>
    public RunOutput[] Run(IReadOnlyList<InputTensor> inputs)
    {
        var values = new OrtValue[inputs.Count];
        var pins = new MemoryHandle[inputs.Count];
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                values[i] = CreateInputValue(Inputs[i], inputs[i], ref pins[i]);
            }

            return _preallocate ? RunPreallocated(values, inputs[0].Shape[0]) : RunAllocated(values);
        }
        finally
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
            }
        }
    }

    /// <summary>Runs through the dynamic batcher when this version batches, else at once on the caller's thread.</summary>
    public Task<RunOutput[]> RunAsync(InputTensor[] inputs, long rows)
    {
        if (_batcher is not null)
        {
            return _batcher.RunAsync(inputs, rows);
        }

        var started = Stopwatch.GetTimestamp();
        var outputs = Run(inputs);
        _telemetry?.RecordBatch(Name, Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return Task.FromResult(outputs);
    }

    /// <summary>Stacks the validated inputs of several requests along the batch dimension (pooled buffers; dispose them).</summary>
    public InputTensor[] Concatenate(InputTensor[][] requests, long rows)
    {
        var combined = new InputTensor[Inputs.Count];
        for (var i = 0; i < combined.Length; i++)
        {
            var spec = Inputs[i];
            long[] shape = [rows, .. spec.Shape.Skip(1)];
            var tensor = new InputTensor(spec.Name, spec.Datatype, shape);
            combined[i] = tensor;
            if (spec.ElementType == TensorElementType.String)
            {
                tensor.SetTypedElements([.. requests.SelectMany(r => r[i].Elements!)], "batch");
                continue;
            }

            var size = TensorDatatype.ElementSize(spec.ElementType);
            var elements = requests.Sum(r => (long)r[i].Data.Length) / size;
            var destination = tensor.RentTyped(elements, size, "batch");
            var offset = 0;
            foreach (var request in requests)
            {
                request[i].Data.Span.CopyTo(destination[offset..]);
                offset += request[i].Data.Length;
            }
        }

        return combined;
    }

    /// <summary>Cuts each output of a batched run back into the rows of each request, in order.</summary>
    public RunOutput[][] SplitRows(RunOutput[] outputs, long[] rowCounts)
    {
        var total = 0L;
        foreach (var count in rowCounts)
        {
            total += count;
        }

        var split = new RunOutput[rowCounts.Length][];
        for (var r = 0; r < split.Length; r++)
        {
            split[r] = new RunOutput[outputs.Length];
        }

        for (var o = 0; o < outputs.Length; o++)
        {
            var output = outputs[o];
            if (output.Shape is not [var first, ..] || first != total)
            {
                throw new InvalidDataException($"output '{_runOutputNames[o]}' of a batch of {total} rows has shape {TensorDatatype.Format(output.Shape)}; its rows cannot be split back.");
            }

            var elementsPerRow = ElementCount(output.Shape.AsSpan(1));
            var offset = 0;
            for (var r = 0; r < rowCounts.Length; r++)
            {
                var length = _runOutputTypes[o] == TensorElementType.String
                    ? BytesLength(output.Data.AsSpan(offset), rowCounts[r] * elementsPerRow)
                    : checked((int)(output.Data.Length / total * rowCounts[r]));
                var shape = (long[])output.Shape.Clone();
                shape[0] = rowCounts[r];
                split[r][o] = new RunOutput(shape, output.Data.AsSpan(offset, length).ToArray(), output.ClassLabels);
                offset += length;
            }
        }

        return split;
    }

    /// <summary>
    /// Runs zeros (empty strings) through the model so the first real request does not pay for lazy
    /// initialization, checks that outputs can be written into preallocated buffers, and learns the
    /// class labels of ZipMap outputs.
    /// </summary>
    public void WarmUp()
    {
        var inputs = new List<InputTensor>();
        try
        {
            foreach (var spec in Inputs)
            {
                // Two rows on the batch dimension, so the run shows whether outputs follow it.
                long[] shape = [.. spec.Shape.Select((d, i) => d >= 0 ? d : i == 0 ? WarmUpRows : 1L)];
                var count = shape.Aggregate(1L, (a, b) => a * b);
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

            RunOutput[] outputs;
            try
            {
                outputs = Run(inputs);
            }
            catch (OnnxRuntimeException) when (_preallocate)
            {
                // Some output is not [N, fixed...] after all: let ONNX Runtime size the outputs.
                _preallocate = false;
                outputs = Run(inputs);
            }

            _canBatch &= outputs.All(o => o.Shape is [WarmUpRows, ..]);
            foreach (var output in Outputs)
            {
                var result = outputs[output.RunOutputIndex];
                if (output.Kind == OutputKind.ZipMap && result.ClassLabels is { } labels)
                {
                    output.Shape[1] = labels.Length;
                    SetClassNames(labels);
                }
                else if (output.Kind == OutputKind.ClassLabel)
                {
                    EncodeLabels(result.Data, (int)result.Shape[0]);
                }
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

    /// <summary>The v2 BYTES encoding of the class with the highest probability in each row.</summary>
    public byte[] EncodeLabels(byte[] probabilities, int rows)
    {
        var classes = _encodedClassNames.Length;
        var scores = MemoryMarshal.Cast<byte, float>(probabilities.AsSpan());
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

    /// <summary>Takes a lease for one request; false once the version is retired (look it up again).</summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 0)
        {
            return true;
        }

        Release();
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) != 0)
        {
            Dispose();
        }
    }

    /// <summary>Swapped out: no new requests; released once the requests in flight finish.</summary>
    public void Retire()
    {
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _leases) == 0)
        {
            Dispose();
        }
    }

    /// <summary>Lets queued requests finish, then releases the session.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _batcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _session.Dispose();
        _runOptions.Dispose();
    }

    private RunOutput[] RunPreallocated(OrtValue[] inputs, long rows)
    {
        var rowShapes = _runOutputRowShapes!;
        var results = new RunOutput[_runOutputNames.Length];
        var values = new OrtValue[results.Length];
        var pins = new MemoryHandle[results.Length];
        try
        {
            for (var i = 0; i < results.Length; i++)
            {
                long[] shape = [rows, .. rowShapes[i]];
                var length = ElementCount(shape) * TensorDatatype.ElementSize(_runOutputTypes[i]);
                var buffer = GC.AllocateUninitializedArray<byte>(checked((int)length));
                pins[i] = buffer.AsMemory().Pin();
                values[i] = CreateValue(pins[i], _runOutputTypes[i], shape, length);
                results[i] = new RunOutput(shape, buffer, null);
            }

            _session.Run(_runOptions, _inputNames, inputs, _runOutputNames, values);
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

    private RunOutput[] RunAllocated(OrtValue[] inputs)
    {
        using var values = _session.Run(_runOptions, _inputNames, inputs, _runOutputNames);
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

    private void SetClassNames(IReadOnlyList<string> classNames)
    {
        ClassNames = [.. classNames];
        ClassNamesJson = JsonSerializer.Serialize(classNames);
        _encodedClassNames = [.. classNames.Select(EncodeBytesElement)];
    }

    private static long ElementCount(ReadOnlySpan<long> shape)
    {
        var count = 1L;
        foreach (var dimension in shape)
        {
            count *= dimension;
        }

        return count;
    }

    private static int BytesLength(ReadOnlySpan<byte> data, long elements)
    {
        var offset = 0;
        for (var i = 0L; i < elements; i++)
        {
            offset += sizeof(int) + BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        }

        return offset;
    }

    // The MLflow signature can be stricter than the ONNX graph (a fixed feature count where the graph
    // leaves it open); it must not contradict it.
    private static List<InputSpec> ApplySignature(List<InputSpec> inputs, IReadOnlyList<SignatureTensor> signature, string source)
    {
        var result = new List<InputSpec>(inputs);
        foreach (var tensor in signature)
        {
            var index = tensor.Name is null && inputs.Count == 1 ? 0 : inputs.FindIndex(i => i.Name == tensor.Name);
            if (index < 0)
            {
                throw new InvalidDataException($"{source}: the MLmodel signature names input '{tensor.Name}', the model has {string.Join(", ", inputs.Select(i => i.Name))}.");
            }

            var input = inputs[index];
            if (tensor.Datatype != input.Datatype || tensor.Shape.Length != input.Shape.Length)
            {
                throw new InvalidDataException(
                    $"{source}: the MLmodel signature says input '{input.Name}' is {tensor.Datatype} {TensorDatatype.Format(tensor.Shape)}; the model has {input.Datatype} {TensorDatatype.Format(input.Shape)}.");
            }

            var shape = new long[input.Shape.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                if (input.Shape[d] >= 0 && tensor.Shape[d] >= 0 && input.Shape[d] != tensor.Shape[d])
                {
                    throw new InvalidDataException(
                        $"{source}: the MLmodel signature gives input '{input.Name}' shape {TensorDatatype.Format(tensor.Shape)}; the model has {TensorDatatype.Format(input.Shape)}.");
                }

                shape[d] = input.Shape[d] >= 0 ? input.Shape[d] : tensor.Shape[d];
            }

            result[index] = input with { Shape = shape };
        }

        return result;
    }

    private static TensorElementType? ZipMapValueType(NodeMetadata metadata)
    {
        if (metadata.OnnxValueType != OnnxValueType.ONNX_TYPE_SEQUENCE)
        {
            return null;
        }

        var element = metadata.AsSequenceMetadata().ElementMeta;
        if (element.OnnxValueType != OnnxValueType.ONNX_TYPE_MAP)
        {
            return null;
        }

        var map = element.AsMapMetadata();
        var value = map.ValueMetadata;
        return (map.KeyDataType is TensorElementType.Int64 or TensorElementType.String) && value.IsTensor
            && value.ElementDataType is TensorElementType.Float or TensorElementType.Double
            ? value.ElementDataType
            : null;
    }

    private static long[] ToWireShape(int[] dims) => [.. dims.Select(d => d < 0 ? -1L : d)];

    private static string Describe(NodeMetadata metadata) =>
        metadata.IsTensor
            ? $"{metadata.ElementDataType} [{string.Join(", ", metadata.Dimensions)}]"
            : metadata.OnnxValueType.ToString();

    private static byte[] EncodeBytesElement(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        var element = new byte[sizeof(int) + utf8.Length];
        BinaryPrimitives.WriteInt32LittleEndian(element, utf8.Length);
        utf8.CopyTo(element, sizeof(int));
        return element;
    }
}

/// <summary>One ONNX output of a run: its shape and bytes in the v2 raw encoding; ZipMap outputs also carry their class labels.</summary>
internal sealed record RunOutput(long[] Shape, byte[] Data, string[]? ClassLabels);

/// <summary>
/// ONNX Runtime session options of one model, and whether its floating-point inputs may carry NaN (tree
/// ensembles often read NaN as "missing"; a linear model turns it into NaN scores and a wrong label).
/// </summary>
internal sealed record ModelSessionSettings(int IntraOpThreads, int InterOpThreads, GraphOptimizationLevel GraphOptimizationLevel, bool RejectNaN = false);
