namespace Mesh.Cli.Tests;

public sealed class ReferenceProfileTrainingTests : IDisposable
{
    private readonly string _repository = Path.Combine(Path.GetTempPath(), "mesh-profile-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_repository))
        {
            Directory.Delete(_repository, recursive: true);
        }
    }

    [Fact]
    public void Train_IrisCsv_WritesReferenceProfileBesideEachModel()
    {
        var models = DemoModelTrainer.Train(IrisData.CsvPath, _repository, TextWriter.Null);

        foreach (var model in models)
        {
            var profile = ReferenceProfile.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(model.ModelPath)!, ReferenceProfile.FileName)));
            Assert.Equal(ReferenceProfile.TrainingSource, profile.Source);
            // The profile is of the rows the models were trained on: four in five of each species (120 of 150).
            Assert.Equal(120, profile.Rows);
            Assert.Equal(DemoModelTrainer.FeatureNames, profile.Features.Select(f => f.Name));

            // Computed apart, with numpy over those rows of data/iris.csv (every species' rows but its 1st, 6th, 11th, ...):
            // numpy.quantile (linear) deciles strictly inside the range, bins [min, e1) ... [e9, max] with none out of
            // range, the mean and the population standard deviation.
            var sepal = profile.Features[0];
            Assert.Equal([4.8, 5.0, 5.2, 5.6, 5.8, 6.04, 6.3, 6.42, 6.8], sepal.Edges, new Tolerance(1e-5));
            Assert.Equal([0L, 11, 9, 14, 13, 11, 14, 10, 14, 10, 14, 0], sepal.Counts);
            Assert.Equal(4.3, sepal.Min, 5);
            Assert.Equal(7.9, sepal.Max, 5);
            Assert.Equal(5.799167, sepal.Mean, 5);
            Assert.Equal(0.808651, sepal.Std, 5);
            Assert.All(profile.Features, f => Assert.Equal(120, f.Counts.Sum()));

            // Both models classify most of the training rows right, so each class is about a third of the predictions.
            var predictions = Assert.IsType<PredictionProfile>(profile.Predictions);
            Assert.Equal(DemoModelTrainer.ClassNames, predictions.Classes);
            Assert.Equal(120, predictions.Counts.Sum());
            Assert.All(predictions.Counts, c => Assert.InRange(c, 32, 48));
        }
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= epsilon;

        public int GetHashCode(double obj) => 0;
    }
}
