using static Mesh.ModelHost.Tests.Onnx.OnnxGraphs;
using DataType = Mesh.ModelHost.Tests.Onnx.TensorProto.Types.DataType;

namespace Mesh.ModelHost.Tests.Onnx;

/// <summary>
/// A two-step chain and chains that cannot run: a scaler (x * a + b per feature) feeding a linear softmax
/// classifier by the tensor name <c>features</c>, with the numbers they are built from so the tests compute the
/// chain's answers themselves.
/// </summary>
internal static class ChainModels
{
    public const string Scaler = "chain-scaler";
    public const string Classifier = "chain-linear";
    public const string RenamedInput = "chain-renamed";
    public const string DoubleInput = "chain-double";
    public const string Chain = "iris-chain";
    public const string MismatchedNames = "bad-names-chain";
    public const string MismatchedTypes = "bad-type-chain";
    public const string MissingStep = "missing-step-chain";

    public static readonly string[] FeatureNames = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
    public static readonly string[] ClassNames = ["setosa", "versicolor", "virginica"];

    // Roughly a standardisation of the iris features.
    public static readonly float[] ScaleA = [1.2f, 2.3f, 0.57f, 1.3f];
    public static readonly float[] ScaleB = [-7.0f, -7.0f, -2.1f, -1.6f];

    // Weights [feature, class] and biases of the classifier over the scaled features.
    public static readonly float[,] Weights = { { -1.0f, 1.5f, 0.9f }, { 1.1f, -0.6f, -0.4f }, { -2.0f, 0.3f, 1.8f }, { -1.9f, -0.8f, 2.1f } };
    public static readonly float[] Bias = [0.4f, 0.9f, -1.2f];

    public static void WriteAll(string repository)
    {
        TestModels.Write(repository, Scaler, ScalerGraph(ScaleA, ScaleB));
        File.WriteAllText(Path.Combine(repository, Scaler, "1", "config.json"), ScalerConfig);

        TestModels.Write(repository, Classifier, ClassifierGraph("features"));
        File.WriteAllText(Path.Combine(repository, Classifier, "1", "config.json"), ClassifierConfig);
        TestModels.Write(repository, RenamedInput, ClassifierGraph("scaled"));
        TestModels.Write(repository, DoubleInput, Graph(
            DoubleInput, [Tensor("features", DataType.Double, -1, 4)], [Tensor("y", DataType.Double, -1, 4)], [Node("Identity", ["features"], ["y"])]));

        WriteChain(repository, Chain, Scaler, Classifier + "/1");
        WriteChain(repository, MismatchedNames, Scaler, RenamedInput);
        WriteChain(repository, MismatchedTypes, Scaler, DoubleInput);
        WriteChain(repository, MissingStep, Scaler, "no-such-model");
    }

    /// <summary>The scaler's config.json: its input's feature names, which the chain's metadata must show.</summary>
    public static string ScalerConfig => $$"""{ "input": { "name": "x", "featureNames": ["{{string.Join("\", \"", FeatureNames)}}"] } }""";

    /// <summary>The classifier's config.json: its probabilities output and class names.</summary>
    public static string ClassifierConfig => $$"""{ "probabilityOutput": "probs", "classNames": ["{{string.Join("\", \"", ClassNames)}}"] }""";

    /// <summary>The chain's probabilities for one row, computed here in double precision.</summary>
    public static double[] Expected(float[] row) => Expected(row, ScaleA, ScaleB);

    /// <summary>The chain's probabilities for one row with a scaler of its own (<paramref name="a"/>, <paramref name="b"/>).</summary>
    public static double[] Expected(float[] row, float[] a, float[] b)
    {
        var scaled = row.Select((x, f) => ((double)x * a[f]) + b[f]).ToArray();
        var logits = new double[Bias.Length];
        for (var c = 0; c < logits.Length; c++)
        {
            logits[c] = Bias[c];
            for (var f = 0; f < scaled.Length; f++)
            {
                logits[c] += scaled[f] * Weights[f, c];
            }
        }

        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        return [.. exp.Select(e => e / exp.Sum())];
    }

    private static void WriteChain(string repository, string name, params string[] steps)
    {
        var folder = Directory.CreateDirectory(Path.Combine(repository, name, "1")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), $$"""{ "steps": ["{{string.Join("\", \"", steps)}}"] }""");
    }

    /// <summary>x * a + b per feature, from input <c>x</c> to output <c>features</c>, both FP32 [N, 4].</summary>
    public static GraphProto ScalerGraph(float[] a, float[] b) => Graph(
        Scaler,
        [Tensor("x", DataType.Float, -1, 4)],
        [Tensor("features", DataType.Float, -1, 4)],
        [Node("Mul", ["x", "a"], ["multiplied"]), Node("Add", ["multiplied", "b"], ["features"])],
        [Initializer("a", a, 4), Initializer("b", b, 4)]);

    /// <summary>Softmax of the features times the weights plus the biases, from <paramref name="inputName"/> to <c>probs</c>.</summary>
    public static GraphProto ClassifierGraph(string inputName) => Graph(
        Classifier,
        [Tensor(inputName, DataType.Float, -1, 4)],
        [Tensor("probs", DataType.Float, -1, 3)],
        [
            Node("MatMul", [inputName, "W"], ["logits_raw"]),
            Node("Add", ["logits_raw", "bias"], ["logits"]),
            Node("Softmax", ["logits"], ["probs"], "", Int("axis", 1)),
        ],
        [Initializer("W", [.. Weights.Cast<float>()], 4, 3), Initializer("bias", Bias, 3)]);
}
