namespace Mesh.MetricsSink.Tests;

/// <summary>The producer's synthetic traffic (and its <c>Producer:Drift</c> shift) as the router's Predictions carry it.</summary>
internal static class DriftTraffic
{
    public static readonly string[] Classes = ["setosa", "versicolor", "virginica"];

    /// <summary>Records as the producer publishes them: the synthetic rows cycled, shifted as <paramref name="drift"/> says.</summary>
    public static IEnumerable<FeatureRow> Records(int count, int seed, DriftInjectionOptions? drift = null)
    {
        var table = SyntheticFeatureSource.Generate(Math.Min(count, 1000), seed);
        var shift = drift is null ? null : MeanShift.For(drift, table);
        for (var n = 0; n < count; n++)
        {
            var row = table.Rows[n % table.Rows.Count];
            yield return shift?.Apply(row, n) ?? row;
        }
    }

    /// <summary>Fresh rows (not cycled) for long runs of unshifted traffic.</summary>
    public static IEnumerable<FeatureRow> Fresh(int count, int seed) => SyntheticFeatureSource.Generate(count, seed).Rows;

    /// <summary>A profile as <c>mesh train</c> writes it, of synthetic training rows (the model predicting each row's class).</summary>
    public static ReferenceProfile TrainingProfile(int rows, int seed)
    {
        var table = SyntheticFeatureSource.Generate(rows, seed);
        return ReferenceProfileBuilder.Build(SyntheticFeatureSource.FeatureNames, [.. table.Rows.Select(r => (IReadOnlyList<double>)[.. r.Values.Select(v => (double)v)])],
            Classes, [.. table.Rows.Select(r => r.Label)], ReferenceProfile.TrainingSource);
    }

    public static Prediction Prediction(FeatureRow row, int n, string arm = "logreg", string experiment = "iris-ab")
    {
        var prediction = Make.Prediction($"r-{n}", arm, row.Label, experiment: experiment);
        prediction.Features.Add(row.Values);
        prediction.FeatureNames.Add(SyntheticFeatureSource.FeatureNames);
        prediction.Output.ClassNames.Add(Classes);
        return prediction;
    }

    public static DriftMonitor Monitor(ReferenceProfile? profile, DriftOptions? options = null) =>
        new([new FixedProfile(profile)], options ?? new DriftOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<DriftMonitor>.Instance);

    private sealed class FixedProfile(ReferenceProfile? profile) : IReferenceProfileSource
    {
        public Task<ReferenceProfile?> FindAsync(string model, string version, CancellationToken cancellationToken) => Task.FromResult(profile);
    }
}
