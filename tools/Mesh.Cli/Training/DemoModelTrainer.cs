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
/// Trains the demo iris classifiers with ML.NET and writes them as ONNX models into a model repository laid out
/// <c>&lt;name&gt;/&lt;version&gt;/model.onnx</c> + <c>config.json</c>. One row in five of each species is held out of
/// training and written to <see cref="HoldoutFileName"/> in the repository, so the demo measures accuracy on rows the
/// models never saw.
/// </summary>
public static class DemoModelTrainer
{
    public const string LogisticRegressionName = "iris-logreg";
    public const string BoostedTreesName = "iris-boosted";

    /// <summary>A third model, trained only on request (the demo's shadow): a maximum-entropy model fitted by SDCA.</summary>
    public const string CandidateName = "iris-sdca";

    /// <summary>The held-out rows (same header as <c>data/iris.csv</c>), written beside the model folders.</summary>
    public const string HoldoutFileName = "iris-holdout.csv";

    // Every fifth row of each species (the 1st, 6th, ...) is held out: 10 of 50 per species, 30 of 150 rows.
    private const int HoldoutEvery = 5;
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

    /// <summary>
    /// Trains both models (and <see cref="CandidateName"/> when <paramref name="withCandidate"/>) on the training split
    /// and writes them into <paramref name="modelRepository"/>, replacing version 1, with the held-out rows beside them.
    /// </summary>
    public static IReadOnlyList<TrainedModel> Train(string irisCsvPath, string modelRepository, TextWriter log, bool withCandidate = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(irisCsvPath);
        ArgumentException.ThrowIfNullOrEmpty(modelRepository);
        ArgumentNullException.ThrowIfNull(log);

        var (header, all) = ReadIris(irisCsvPath);
        var (rows, holdout) = Split(all);
        log.WriteLine($"Read {all.Count} rows from {irisCsvPath}: {rows.Count} to train on, {holdout.Count} held out.");
        Directory.CreateDirectory(modelRepository);
        WriteHoldout(Path.Combine(modelRepository, HoldoutFileName), header, holdout);

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

        var holdoutData = labelMapping.Transform(ml.Data.LoadFromEnumerable(holdout));
        var results = new List<TrainedModel>(3)
        {
            TrainAndExport(ml, LogisticRegressionName, "LbfgsMaximumEntropy", logisticRegression, keyedData, holdoutData, rows, modelRepository, log),
            TrainAndExport(ml, BoostedTreesName, "OneVersusAll(FastTreeBinary)", boostedTrees, keyedData, holdoutData, rows, modelRepository, log),
        };
        if (withCandidate)
        {
            // Few passes on purpose: a plausible candidate that is not simply a copy of the logistic regression.
            var candidate = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                NumberOfThreads = 1,
                MaximumNumberOfIterations = 3,
            });
            results.Add(TrainAndExport(ml, CandidateName, "SdcaMaximumEntropy", candidate, keyedData, holdoutData, rows, modelRepository, log));
        }

        return results;
    }

    /// <summary>The training rows and the held-out ones: within each species, every <see cref="HoldoutEvery"/>th row is held out.</summary>
    private static (List<IrisRow> Training, List<IrisRow> Holdout) Split(List<IrisRow> rows)
    {
        var training = new List<IrisRow>(rows.Count);
        var holdout = new List<IrisRow>(rows.Count / HoldoutEvery + 3);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var index = seen.GetValueOrDefault(row.Species);
            seen[row.Species] = index + 1;
            (index % HoldoutEvery == 0 ? holdout : training).Add(row);
        }

        return (training, holdout);
    }

    private static void WriteHoldout(string path, string header, List<IrisRow> holdout)
    {
        using var writer = new StreamWriter(path, append: false);
        writer.WriteLine(header);
        foreach (var row in holdout)
        {
            writer.WriteLine(string.Join(',', row.Features.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "," + row.Species);
        }
    }

    private static TrainedModel TrainAndExport<TTransformer>(
        MLContext ml,
        string name,
        string trainerName,
        IEstimator<TTransformer> trainer,
        IDataView keyedData,
        IDataView holdoutData,
        List<IrisRow> rows,
        string modelRepository,
        TextWriter log)
        where TTransformer : ITransformer
    {
        var model = trainer.Fit(keyedData);
        var scored = model.Transform(keyedData);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var holdoutMetrics = ml.MulticlassClassification.Evaluate(model.Transform(holdoutData));

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
            TrainingAccuracy: metrics.MicroAccuracy,
            HoldoutAccuracy: holdoutMetrics.MicroAccuracy);
        File.WriteAllText(Path.Combine(versionFolder, "config.json"), JsonSerializer.Serialize(config, s_jsonOptions));
        File.WriteAllText(Path.Combine(versionFolder, ReferenceProfile.FileName), Profile(scored, rows).ToJson());

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Trained {name} ({trainerName}): training accuracy {metrics.MicroAccuracy:F3}, held-out accuracy {holdoutMetrics.MicroAccuracy:F3}, written to {modelPath}."));
        return new TrainedModel(name, ModelVersion, modelPath, metrics.MicroAccuracy, holdoutMetrics.MicroAccuracy);
    }

    // What the metrics sink measures drift against (docs/drift.md): the training rows' feature bins and moments, and
    // the classes this model predicted for them. Keys are 1-based in the sorted class order (ClassNames).
    private static ReferenceProfile Profile(IDataView scored, List<IrisRow> rows)
    {
        var predicted = scored.GetColumn<uint>("PredictedLabel").Select(key => ClassNames[(int)key - 1]).ToList();
        var values = rows.Select(r => (IReadOnlyList<double>)[.. r.Features.Select(v => (double)v)]).ToList();
        return ReferenceProfileBuilder.Build(FeatureNames, values, ClassNames, predicted, ReferenceProfile.TrainingSource);
    }

    private static (string Header, List<IrisRow> Rows) ReadIris(string path)
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

        return (header.Trim(), rows);
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
