using Google.Protobuf;

namespace Mesh.Cli.ModelHostBench;

/// <summary>
/// The benchmark's multilayer perceptrons, with a realistic amount of work per row where the iris model does
/// about 15 multiply-adds: <see cref="Small"/> (64 inputs → 256 → 256 → 10, about 84 k multiply-adds per row)
/// and <see cref="Large"/> (512 → 4096 → 4096 → 10, about 19 M multiply-adds per row and 76 MB of weights, a
/// mid-size dense network: a row scored alone streams every weight from memory, so batching pays most). MatMul+Add+Relu per hidden layer,
/// then MatMul+Add+Softmax. Written as ONNX here, field by field with protobuf's wire format, so the CLI needs
/// no ONNX schema compiled into it (the tests compile their own subset). Weights are seeded random numbers
/// scaled by 1/√fan-in, so the outputs stay well inside float range.
/// </summary>
internal sealed class BenchMlpModel
{
    public const string Version = "1";
    public const string InputName = "x";
    public const string OutputName = "probs";

    private BenchMlpModel(string name, IReadOnlyList<int> layers)
    {
        Name = name;
        Layers = layers;
    }

    public static BenchMlpModel Small { get; } = new("bench-mlp", [64, 256, 256, 10]);

    public static BenchMlpModel Large { get; } = new("bench-mlp-large", [512, 4096, 4096, 10]);

    public string Name { get; }

    public IReadOnlyList<int> Layers { get; }

    public int Features => Layers[0];

    public string Describe() => $"{string.Join(" → ", Layers)} MLP (MatMul+Add+Relu ×{Layers.Count - 2}, MatMul+Add+Softmax; {MultiplyAddsPerRow():N0} multiply-adds per row)";

    public long MultiplyAddsPerRow()
    {
        var total = 0L;
        for (var i = 0; i + 1 < Layers.Count; i++)
        {
            total += (long)Layers[i] * Layers[i + 1];
        }

        return total;
    }

    /// <summary>Writes <c>&lt;repository&gt;/&lt;name&gt;/1/model.onnx</c> and returns its path.</summary>
    public string Write(string repository)
    {
        var folder = Directory.CreateDirectory(Path.Combine(repository, Name, Version)).FullName;
        var path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, Build());
        return path;
    }

    private byte[] Build()
    {
        var random = new Random(20261127);
        var graph = new Proto().String(GraphName, Name);
        var previous = InputName;
        for (var layer = 0; layer + 1 < Layers.Count; layer++)
        {
            int inputs = Layers[layer], outputs = Layers[layer + 1];
            var scale = 1 / Math.Sqrt(inputs);
            var weights = new float[inputs * outputs];
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(((random.NextDouble() * 2) - 1) * scale);
            }

            var bias = new float[outputs];
            for (var i = 0; i < bias.Length; i++)
            {
                bias[i] = (float)(((random.NextDouble() * 2) - 1) * 0.1);
            }

            var last = layer + 2 == Layers.Count;
            var sum = last ? "logits" : $"sum{layer}";
            graph.Message(GraphInitializer, Initializer($"W{layer}", weights, inputs, outputs));
            graph.Message(GraphInitializer, Initializer($"B{layer}", bias, outputs));
            graph.Message(GraphNode, Node("MatMul", [previous, $"W{layer}"], $"product{layer}"));
            graph.Message(GraphNode, Node("Add", [$"product{layer}", $"B{layer}"], sum));
            if (!last)
            {
                previous = $"hidden{layer}";
                graph.Message(GraphNode, Node("Relu", [sum], previous));
            }
        }

        // Opset 17: Softmax works on the last axis, the classes.
        graph.Message(GraphNode, Node("Softmax", ["logits"], OutputName));
        graph.Message(GraphInput, Tensor(InputName, Layers[0]));
        graph.Message(GraphOutput, Tensor(OutputName, Layers[^1]));

        return new Proto()
            .Int(ModelIrVersion, 8)
            .String(ModelProducerName, "mesh-bench-model-host")
            .Message(ModelGraph, graph)
            .Message(ModelOpsetImport, new Proto().String(OpsetDomain, "").Int(OpsetVersion, 17))
            .ToArray();
    }

    private static Proto Node(string opType, string[] inputs, string output)
    {
        var node = new Proto();
        foreach (var input in inputs)
        {
            node.String(NodeInput, input);
        }

        return node.String(NodeOutput, output).String(NodeName, $"{opType}_{output}").String(NodeOpType, opType);
    }

    private static Proto Initializer(string name, float[] values, params long[] dims)
    {
        var tensor = new Proto();
        foreach (var dim in dims)
        {
            tensor.Int(TensorDims, dim);
        }

        // raw_data is little-endian, as are the platforms ONNX Runtime ships for.
        var raw = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return tensor.Int(TensorDataType, FloatType).String(TensorName, name).Bytes(TensorRawData, raw);
    }

    /// <summary>An FP32 <c>[N, width]</c> graph input or output.</summary>
    private static Proto Tensor(string name, int width)
    {
        var shape = new Proto()
            .Message(ShapeDim, new Proto().String(DimParam, "N"))
            .Message(ShapeDim, new Proto().Int(DimValue, width));
        var tensorType = new Proto().Int(TensorTypeElemType, FloatType).Message(TensorTypeShape, shape);
        return new Proto().String(ValueInfoName, name).Message(ValueInfoType, new Proto().Message(TypeProtoTensorType, tensorType));
    }

    // Field numbers of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelGraph = 7, ModelOpsetImport = 8;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeProtoTensorType = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;
    private const int FloatType = 1;

    /// <summary>One protobuf message, written field by field.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _stream = new();
        private readonly CodedOutputStream _output;

        public Proto() => _output = new CodedOutputStream(_stream, leaveOpen: true);

        public Proto Int(int field, long value)
        {
            _output.WriteTag(field, WireFormat.WireType.Varint);
            _output.WriteInt64(value);
            return this;
        }

        public Proto String(int field, string value)
        {
            _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            _output.WriteString(value);
            return this;
        }

        public Proto Bytes(int field, byte[] value)
        {
            _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            _output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
            return this;
        }

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray()
        {
            _output.Flush();
            return _stream.ToArray();
        }
    }
}
