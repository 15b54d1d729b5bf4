using static Mesh.ModelHost.Tests.Onnx.OnnxGraphs;
using DataType = Mesh.ModelHost.Tests.Onnx.TensorProto.Types.DataType;

namespace Mesh.ModelHost.Tests.Onnx;

/// <summary>
/// The models the tests serve besides the demo ones, each with the numbers it is built from, so the
/// tests can compute the expected answers themselves.
/// </summary>
internal static class TestModels
{
    public const string Identity = "types-identity";
    public const string HalfIdentity = "half-identity";
    public const string LinearZipMap = "linear-zipmap";
    public const string Tree = "tree-classifier";
    public const string MatMulSoftmax = "matmul-softmax";
    public const string Regressor = "linear-regressor";
    public const string StringEncoder = "string-encoder";
    public const string UnsupportedOperator = "unsupported-op";
    public const string LogOfInput = "log-of-input";

    /// <summary>
    /// Every v2 datatype that has typed contents, with its ONNX element type; the identity model has one
    /// input and output per row. FP16 (raw only) has a model of its own so typed requests can feed this one.
    /// </summary>
    public static readonly (string V2, DataType Onnx)[] Datatypes =
    [
        ("BOOL", DataType.Bool), ("INT8", DataType.Int8), ("INT16", DataType.Int16), ("INT32", DataType.Int32), ("INT64", DataType.Int64),
        ("UINT8", DataType.Uint8), ("UINT16", DataType.Uint16), ("UINT32", DataType.Uint32), ("UINT64", DataType.Uint64),
        ("FP32", DataType.Float), ("FP64", DataType.Double), ("BYTES", DataType.String),
    ];

    // LinearClassifier: 3 classes labelled 10, 20, 30 over 3 features, softmax of W x + b.
    public static readonly long[] LinearLabels = [10, 20, 30];
    public static readonly float[,] LinearWeights = { { 0.5f, -1.0f, 0.25f }, { -0.3f, 0.8f, 0.1f }, { 0.2f, 0.1f, -0.7f } };
    public static readonly float[] LinearIntercepts = [0.1f, -0.2f, 0.05f];

    // Tree: x0 <= 0.5 -> cat; else x1 <= 1.0 -> dog; else eel.
    public static readonly string[] TreeLabels = ["cat", "dog", "eel"];

    // MatMul + Add + Softmax: 3 features to 2 classes.
    public static readonly float[,] MatMulWeights = { { 1.0f, -1.0f }, { 0.5f, 0.25f }, { -0.75f, 2.0f } };
    public static readonly float[] MatMulBias = [0.3f, -0.1f];

    // A linear regression in FP64: y = 1.5 a - 2 b + 0.25.
    public static readonly double[] RegressorCoefficients = [1.5, -2.0];
    public const double RegressorIntercept = 0.25;

    public static readonly string[] EncoderKeys = ["red", "green", "blue"];
    public static readonly long[] EncoderValues = [1, 2, 3];
    public const long EncoderDefault = -1;

    /// <summary>Writes every test model as <c>&lt;name&gt;/1/model.onnx</c> under <paramref name="repository"/>.</summary>
    public static void WriteAll(string repository)
    {
        Write(repository, Identity, IdentityGraph());
        Write(repository, HalfIdentity, Graph(
            HalfIdentity, [Tensor("in_FP16", DataType.Float16, -1, 2)], [Tensor("out_FP16", DataType.Float16, -1, 2)], [Node("Identity", ["in_FP16"], ["out_FP16"])]));
        Write(repository, LinearZipMap, LinearZipMapGraph());
        Write(repository, Tree, TreeGraph());
        Write(repository, MatMulSoftmax, MatMulSoftmaxGraph());
        Write(repository, Regressor, RegressorGraph());
        Write(repository, StringEncoder, StringEncoderGraph());
        Write(repository, UnsupportedOperator, Graph(
            UnsupportedOperator,
            [Tensor("x", DataType.Float, -1, 2)],
            [Tensor("y", DataType.Float, -1, 2)],
            [Node("NoSuchOperator", ["x"], ["y"])]));

        // y = log(x): finite inputs 0 and -1 give -Infinity and NaN outputs.
        Write(repository, LogOfInput, Graph(LogOfInput, [Tensor("x", DataType.Float, -1, 2)], [Tensor("y", DataType.Float, -1, 2)], [Node("Log", ["x"], ["y"])]));
    }

    public const string Batched = "matmul-batched";
    public const string TinyQueue = "matmul-tiny-queue";
    public const string NoNaN = "matmul-no-nan";
    public const string AcceptsNonFinite = "matmul-accepts-non-finite";
    public const string TwoWorkers = "matmul-two-workers";
    public const string Delayed = "matmul-delayed";
    public const string BadBatching = "matmul-bad-batching";

    /// <summary>
    /// MatMul+Softmax more times, with settings in config.json: one that waits up to 5 s for 16 rows
    /// (a full batch runs at once), one whose queue holds a single request that waits up to 3 s, one that
    /// refuses NaN (an old setting: every model refuses them unless it accepts them), one that accepts NaN and
    /// ±Infinity, one that runs two batches at a time (16 rows, up to 5 s), one that waits 300 ms for
    /// more rows, and one whose batching settings are out of range (its load fails).
    /// </summary>
    public static void WriteBatched(string repository)
    {
        Write(repository, Batched, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, Batched, "1", "config.json"),
            """{ "dynamicBatching": { "maxBatchSize": 16, "maxQueueDelayMicroseconds": 5000000 } }""");
        Write(repository, TinyQueue, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, TinyQueue, "1", "config.json"),
            """{ "dynamicBatching": { "maxBatchSize": 1000, "maxQueueDelayMicroseconds": 3000000, "maxQueueSize": 1 } }""");
        Write(repository, NoNaN, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, NoNaN, "1", "config.json"), """{ "rejectNaN": true }""");
        Write(repository, AcceptsNonFinite, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, AcceptsNonFinite, "1", "config.json"), """{ "acceptNonFinite": true }""");
        Write(repository, TwoWorkers, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, TwoWorkers, "1", "config.json"),
            """{ "dynamicBatching": { "maxBatchSize": 16, "maxQueueDelayMicroseconds": 5000000, "maxConcurrentBatches": 2 } }""");
        Write(repository, Delayed, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, Delayed, "1", "config.json"),
            """{ "dynamicBatching": { "maxBatchSize": 1000, "maxQueueDelayMicroseconds": 300000 } }""");
        Write(repository, BadBatching, MatMulSoftmaxGraph());
        File.WriteAllText(Path.Combine(repository, BadBatching, "1", "config.json"),
            """{ "dynamicBatching": { "maxConcurrentBatches": 0 } }""");
    }

    public static void Write(string repository, string name, GraphProto graph, string version = "1")
    {
        var folder = Directory.CreateDirectory(Path.Combine(repository, name, version)).FullName;
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), Model(graph));
    }

    public static GraphProto IdentityGraph() => Graph(
        Identity,
        Datatypes.Select(t => Tensor("in_" + t.V2, t.Onnx, -1, 2)),
        Datatypes.Select(t => Tensor("out_" + t.V2, t.Onnx, -1, 2)),
        Datatypes.Select(t => Node("Identity", ["in_" + t.V2], ["out_" + t.V2])));

    public static GraphProto LinearZipMapGraph() => Graph(
        LinearZipMap,
        [Tensor("X", DataType.Float, -1, 3)],
        [Tensor("output_label", DataType.Int64, -1), SequenceOfMaps("output_probability", DataType.Int64)],
        [
            Node("LinearClassifier", ["X"], ["output_label", "scores"], MlDomain,
                Ints("classlabels_ints", LinearLabels),
                Floats("coefficients", [.. LinearWeights.Cast<float>()]),
                Floats("intercepts", LinearIntercepts),
                Int("multi_class", 0),
                String("post_transform", "SOFTMAX")),
            Node("ZipMap", ["scores"], ["output_probability"], MlDomain, Ints("classlabels_int64s", LinearLabels)),
        ]);

    public static GraphProto TreeGraph() => Graph(
        Tree,
        [Tensor("X", DataType.Float, -1, 2)],
        [Tensor("label", DataType.String, -1), Tensor("scores", DataType.Float, -1, 3)],
        [
            Node("TreeEnsembleClassifier", ["X"], ["label", "scores"], MlDomain,
                Ints("nodes_treeids", 0, 0, 0, 0, 0),
                Ints("nodes_nodeids", 0, 1, 2, 3, 4),
                Ints("nodes_featureids", 0, 0, 1, 0, 0),
                Strings("nodes_modes", "BRANCH_LEQ", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"),
                Floats("nodes_values", 0.5f, 0, 1.0f, 0, 0),
                Ints("nodes_truenodeids", 1, 0, 3, 0, 0),
                Ints("nodes_falsenodeids", 2, 0, 4, 0, 0),
                Ints("class_treeids", 0, 0, 0),
                Ints("class_nodeids", 1, 3, 4),
                Ints("class_ids", 0, 1, 2),
                Floats("class_weights", 1, 1, 1),
                Strings("classlabels_strings", TreeLabels),
                String("post_transform", "NONE")),
        ]);

    /// <summary>MatMul+Add+Softmax over 3 features; <paramref name="openFeatures"/> leaves the feature count open in the graph.</summary>
    public static GraphProto MatMulSoftmaxGraph(float[]? bias = null, bool openFeatures = false) => Graph(
        MatMulSoftmax,
        [Tensor("x", DataType.Float, -1, openFeatures ? -1 : 3)],
        [Tensor("probs", DataType.Float, -1, 2)],
        [
            Node("MatMul", ["x", "W"], ["logits_raw"]),
            Node("Add", ["logits_raw", "b"], ["logits"]),
            Node("Softmax", ["logits"], ["probs"], "", Int("axis", 1)),
        ],
        [Initializer("W", [.. MatMulWeights.Cast<float>()], 3, 2), Initializer("b", bias ?? MatMulBias, 2)]);

    public static GraphProto RegressorGraph() => Graph(
        Regressor,
        [Tensor("x", DataType.Double, -1, 2)],
        [Tensor("variable", DataType.Double, -1, 1)],
        [Node("MatMul", ["x", "w"], ["weighted"]), Node("Add", ["weighted", "intercept"], ["variable"])],
        [Initializer("w", RegressorCoefficients, 2, 1), Initializer("intercept", [RegressorIntercept], 1)]);

    public static GraphProto StringEncoderGraph() => Graph(
        StringEncoder,
        [Tensor("color", DataType.String, -1)],
        [Tensor("code", DataType.Int64, -1)],
        [
            Node("LabelEncoder", ["color"], ["code"], MlDomain,
                Strings("keys_strings", EncoderKeys),
                Ints("values_int64s", EncoderValues),
                Int("default_int64", EncoderDefault)),
        ]);

    /// <summary>Softmax of W x + b per row, computed here in double precision.</summary>
    public static double[] Softmax(float[,] weightsByClass, float[] intercepts, float[] row)
    {
        var classes = intercepts.Length;
        var logits = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            logits[c] = intercepts[c];
            for (var f = 0; f < row.Length; f++)
            {
                logits[c] += weightsByClass[c, f] * row[f];
            }
        }

        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        return [.. exp.Select(e => e / sum)];
    }
}
