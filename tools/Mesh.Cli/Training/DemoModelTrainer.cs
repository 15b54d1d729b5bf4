using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Transforms;
using Mesh.Mlflow.Profiles;

namespace Mesh.Cli.Training;

/// <summary>
/// Trains the two demo iris classifiers with ML.NET and writes them as ONNX models into a model
/// repository laid out <c>&lt;name&gt;/&lt;version&gt;/model.onnx</c> + <c>config.json</c>.
/// </summary>
public static class DemoModelTrainer
{
    public const string LogisticRegressionName = "iris-logreg";
    public const string BoostedTreesName = "iris-boosted";
    public const string ModelVersion = "1";

    /// <summary>The class names in score order (the label keys are sorted by value).</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["setosa", "versicolor", "virginica"];

    /// <summary>The feature columns of <c>data/iris.csv</c>, in the order they are packed into <c>Features</c>.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    internal const string InputName = "Features";
    internal const string ScoreOutputName = "Score.output";
    internal const string PredictedLabelOutputName = "PredictedLabel.output";
    private const int Seed = 20261127;

    private static readonly JsonSerializerOptions s_jsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>Trains both models and writes them into <paramref name="modelRepository"/>, replacing version 1.</summary>
    public static IReadOnlyList<TrainedModel> Train(string irisCsvPath, string modelRepository, TextWriter log)
    {
        ArgumentException.ThrowIfNullOrEmpty(irisCsvPath);
        ArgumentException.ThrowIfNullOrEmpty(modelRepository);
        ArgumentNullException.ThrowIfNull(log);

        var rows = ReadIris(irisCsvPath);
        log.WriteLine($"Read {rows.Count} rows from {irisCsvPath}.");

        var ml = new MLContext(seed: Seed);

        // The label mapping is fitted apart from the trainers so that the exported ONNX graphs
        // contain only the scoring part: their single input is the FP32 [N,4] Features tensor.
        var trainingData = ml.Data.LoadFromEnumerable(rows);
        var labelMapping = ml.Transforms.Conversion
            .MapValueToKey("Label", nameof(IrisRow.Species), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(trainingData);
        var keyedData = labelMapping.Transform(trainingData);

        var logisticRegression = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
            new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                NumberOfThreads = 1,
                MaximumNumberOfIterations = 200,
            });

        var boostedTrees = ml.MulticlassClassification.Trainers.OneVersusAll(
            ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = 50,
                NumberOfLeaves = 8,
                MinimumExampleCountPerLeaf = 5,
                LearningRate = 0.2,
                NumberOfThreads = 1,
                Seed = Seed,
            }));

        Directory.CreateDirectory(modelRepository);
        var results = new List<TrainedModel>(2)
        {
            TrainAndExport(ml, LogisticRegressionName, "LbfgsMaximumEntropy", logisticRegression, keyedData, rows, modelRepository, log),
            TrainAndExport(ml, BoostedTreesName, "OneVersusAll(FastTreeBinary)", boostedTrees, keyedData, rows, modelRepository, log),
        };
        return results;
    }

    private static TrainedModel TrainAndExport<TTransformer>(
        MLContext ml,
        string name,
        string trainerName,
        IEstimator<TTransformer> trainer,
        IDataView keyedData,
        List<IrisRow> rows,
        string modelRepository,
        TextWriter log)
        where TTransformer : ITransformer
    {
        var model = trainer.Fit(keyedData);
        var scored = model.Transform(keyedData);
        var metrics = ml.MulticlassClassification.Evaluate(scored);

        var versionFolder = Path.Combine(modelRepository, name, ModelVersion);
        Directory.CreateDirectory(versionFolder);
        var modelPath = Path.Combine(versionFolder, "model.onnx");

        // The schema handed to the exporter decides the graph inputs: a view with only Features
        // keeps Label and the raw CSV columns out of the ONNX model.
        var exportSchema = ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>());
        using (var stream = File.Create(modelPath))
        {
            ml.Model.ConvertToOnnx(model, exportSchema, stream, "PredictedLabel", "Score");
        }

        var config = new DemoModelConfig(
            Name: name,
            Version: ModelVersion,
            Platform: "onnxruntime_onnx",
            Trainer: trainerName,
            Input: new DemoModelInput(InputName, "FP32", [-1, FeatureNames.Count], FeatureNames),
            ProbabilityOutput: ScoreOutputName,
            ClassNames: ClassNames,
            TrainingAccuracy: metrics.MicroAccuracy);
        File.WriteAllText(Path.Combine(versionFolder, "config.json"), JsonSerializer.Serialize(config, s_jsonOptions));
        File.WriteAllText(Path.Combine(versionFolder, ReferenceProfile.FileName), Profile(scored, rows).ToJson());

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Trained {name} ({trainerName}): training accuracy {metrics.MicroAccuracy:F3}, written to {modelPath}."));
        return new TrainedModel(name, ModelVersion, modelPath, metrics.MicroAccuracy);
    }

    // What the metrics sink measures drift against (docs/drift.md): the training rows' feature bins and moments, and
    // the classes this model predicted for them. Keys are 1-based in the sorted class order (ClassNames).
    private static ReferenceProfile Profile(IDataView scored, List<IrisRow> rows)
    {
        var predicted = scored.GetColumn<uint>("PredictedLabel").Select(key => ClassNames[(int)key - 1]).ToList();
        var values = rows.Select(r => (IReadOnlyList<double>)[.. r.Features.Select(v => (double)v)]).ToList();
        return ReferenceProfileBuilder.Build(FeatureNames, values, ClassNames, predicted, ReferenceProfile.TrainingSource);
    }

    private static List<IrisRow> ReadIris(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{path} is empty.");
        var expectedHeader = string.Join(',', FeatureNames) + ",species";
        if (!string.Equals(header.Trim(), expectedHeader, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{path}: expected the header '{expectedHeader}', found '{header}'.");
        }

        var rows = new List<IrisRow>(150);
        var lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != 5)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected 5 fields, found {fields.Length}.");
            }

            var features = new float[4];
            for (var i = 0; i < features.Length; i++)
            {
                if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out features[i]))
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: '{fields[i]}' is not a number ({FeatureNames[i]}).");
                }
            }

            rows.Add(new IrisRow { Features = features, Species = fields[4].Trim() });
        }

        return rows;
    }

    private sealed class IrisRow
    {
        [VectorType(4)]
        public float[] Features { get; set; } = [];

        public string Species { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        [VectorType(4)]
        public float[] Features { get; set; } = [];
    }
}
