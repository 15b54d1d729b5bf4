namespace Mesh.Cli.Tests;

public sealed class DemoModelTrainerTests : IDisposable
{
    private static readonly string[] s_classNames = ["setosa", "versicolor", "virginica"];

    private readonly string _repository = Path.Combine(Path.GetTempPath(), "mesh-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_repository))
        {
            Directory.Delete(_repository, recursive: true);
        }
    }

    [Fact]
    public void Train_IrisCsv_WritesBothModelFoldersWithConfig()
    {
        var log = new StringWriter();

        var models = DemoModelTrainer.Train(IrisData.CsvPath, _repository, log);

        Assert.Equal(["iris-logreg", "iris-boosted"], models.Select(m => m.Name));
        foreach (var model in models)
        {
            Assert.Equal("1", model.Version);
            Assert.Equal(Path.Combine(_repository, model.Name, "1", "model.onnx"), model.ModelPath);
            Assert.True(new FileInfo(model.ModelPath).Length > 0, $"{model.ModelPath} is empty");
            Assert.True(model.TrainingAccuracy > 0.9, $"{model.Name} training accuracy {model.TrainingAccuracy}");
            Assert.Contains(model.Name, log.ToString());

            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_repository, model.Name, "1", "config.json")));
            var root = config.RootElement;
            Assert.Equal(s_classNames, root.GetProperty("classNames").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("Features", root.GetProperty("input").GetProperty("name").GetString());
            Assert.Equal([-1L, 4L], root.GetProperty("input").GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            Assert.Equal("Score.output", root.GetProperty("probabilityOutput").GetString());
        }
    }

    [Fact]
    public void Train_IrisCsv_OnnxModelsTakeOnlyFeaturesAndClassifyAbove90Percent()
    {
        var models = DemoModelTrainer.Train(IrisData.CsvPath, _repository, TextWriter.Null);
        var (features, species) = IrisData.Load();
        var rows = species.Length;

        foreach (var model in models)
        {
            using var session = new InferenceSession(model.ModelPath);
            Assert.Equal(["Features"], session.InputNames);

            // All rows in one Run, with nothing but the FP32 [N, 4] features.
            using var input = OrtValue.CreateTensorValueFromMemory(features, [rows, 4]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["Features"], [input], ["Score.output", "PredictedLabel.output"]);
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            var predictedKeys = outputs[1].GetTensorDataAsSpan<uint>();
            Assert.Equal(rows * 3, scores.Length);

            var correct = 0;
            for (var row = 0; row < rows; row++)
            {
                var rowScores = scores.Slice(row * 3, 3);
                var best = rowScores.IndexOf(MaxOf(rowScores));
                Assert.InRange(rowScores[0] + rowScores[1] + rowScores[2], 0.99f, 1.01f);

                // Keys are 1-based and in the same order as the scores and the class names.
                Assert.Equal((uint)best + 1, predictedKeys[row]);
                if (s_classNames[best] == species[row])
                {
                    correct++;
                }
            }

            var accuracy = (double)correct / rows;
            Assert.True(accuracy > 0.9, $"{model.Name} ONNX accuracy {accuracy:F3}");
        }
    }

    [Fact]
    public void Train_IrisCsv_HoldsOutEveryFifthRowOfEachSpeciesAndReportsAccuracyOnThem()
    {
        var models = DemoModelTrainer.Train(IrisData.CsvPath, _repository, TextWriter.Null, withCandidate: true);

        // The held-out file: the 1st, 6th, 11th, ... row of each species, with the source's header, 10 per species.
        var source = File.ReadAllLines(IrisData.CsvPath).Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
        var expected = source.Skip(1)
            .Select(line => (Line: line, Species: line.Split(',')[4]))
            .GroupBy(r => r.Species)
            .SelectMany(g => g.Where((_, i) => i % 5 == 0))
            .Select(r => Parse(r.Line))
            .ToList();
        var holdout = File.ReadAllLines(Path.Combine(_repository, DemoModelTrainer.HoldoutFileName));
        Assert.Equal(source[0], holdout[0]);
        Assert.Equal(expected.Select(Key), holdout.Skip(1).Select(Parse).Select(Key));
        Assert.All(s_classNames, c => Assert.Equal(10, expected.Count(r => r.Species == c)));

        // The candidate is trained only on request, and every model's held-out accuracy is what its ONNX graph scores
        // on those rows, computed here apart from the trainer.
        Assert.Equal(["iris-logreg", "iris-boosted", DemoModelTrainer.CandidateName], models.Select(m => m.Name));
        foreach (var model in models)
        {
            using var session = new InferenceSession(model.ModelPath);
            var features = expected.SelectMany(r => r.Features).ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(features, [expected.Count, 4]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["Features"], [input], ["Score.output"]);
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            var correct = 0;
            for (var row = 0; row < expected.Count; row++)
            {
                var rowScores = scores.Slice(row * 3, 3);
                correct += s_classNames[rowScores.IndexOf(MaxOf(rowScores))] == expected[row].Species ? 1 : 0;
            }

            Assert.Equal((double)correct / expected.Count, model.HoldoutAccuracy, 6);
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_repository, model.Name, "1", "config.json")));
            Assert.Equal(model.HoldoutAccuracy, config.RootElement.GetProperty("holdoutAccuracy").GetDouble(), 6);
        }
    }

    private static string Key((string Species, float[] Features) row) => row.Species + ":" + string.Join(' ', row.Features);

    private static (string Species, float[] Features) Parse(string line)
    {
        var fields = line.Split(',');
        return (fields[4], [.. fields.Take(4).Select(f => float.Parse(f, System.Globalization.CultureInfo.InvariantCulture))]);
    }

    [Fact]
    public void Train_Twice_WritesIdenticalModels()
    {
        var first = DemoModelTrainer.Train(IrisData.CsvPath, Path.Combine(_repository, "a"), TextWriter.Null);
        var second = DemoModelTrainer.Train(IrisData.CsvPath, Path.Combine(_repository, "b"), TextWriter.Null);

        for (var i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].TrainingAccuracy, second[i].TrainingAccuracy);
            Assert.True(File.ReadAllBytes(first[i].ModelPath).AsSpan().SequenceEqual(File.ReadAllBytes(second[i].ModelPath)),
                $"{first[i].Name} differs between two trainings with the same seed");
        }
    }

    [Fact]
    public void Train_CsvWithWrongHeader_ThrowsInvalidData()
    {
        Directory.CreateDirectory(_repository);
        var csv = Path.Combine(_repository, "bad.csv");
        File.WriteAllText(csv, "a,b,c\n1,2,3\n");

        var error = Assert.Throws<InvalidDataException>(() => DemoModelTrainer.Train(csv, Path.Combine(_repository, "models"), TextWriter.Null));

        Assert.Contains("sepal_length", error.Message);
    }

    private static float MaxOf(ReadOnlySpan<float> values)
    {
        var max = values[0];
        foreach (var value in values)
        {
            max = Math.Max(max, value);
        }

        return max;
    }
}
