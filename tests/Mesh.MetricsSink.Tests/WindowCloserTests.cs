namespace Mesh.MetricsSink.Tests;

/// <summary>Windows closing into MLflow runs (here the local tracking folder), one per experiment arm, with verdicts.</summary>
public sealed class WindowCloserTests : IDisposable
{
    private readonly SinkTestBench _bench = new("mesh-sink-tracking-");

    public void Dispose() => _bench.Dispose();

    [Fact]
    public async Task CloseWindow_TwoArmsTwoWindows_OneRunPerArmWithStepsParamsTagsAndVerdict()
    {
        var joiner = new PredictionLabelJoiner(_bench.Time, TimeSpan.FromSeconds(600), 100_000);
        var store = new LocalTrackingStore(_bench.Folder, _bench.Time);
        var writer = new TrackingWriter(store);
        var options = new MetricsSinkOptions { WindowSeconds = 60, VerdictMinJoined = 100 };
        var service = new WindowCloser(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100),
            new MetricsSinkTelemetry(_bench.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            Microsoft.Extensions.Options.Options.Create(options), _bench.Time, NullLogger<WindowCloser>.Instance);

        Feed(joiner, 0, 300, logregCorrectEvery: 2);
        service.CloseWindow();
        _bench.Time.Advance(TimeSpan.FromSeconds(60));
        Feed(joiner, 300, 600, logregCorrectEvery: 2);
        var verdicts = service.CloseWindow();
        await writer.CompleteAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(0, writer.Pending);
        var verdict = verdicts["iris-ab"];
        Assert.Equal(("winner", "boosted"), (verdict.State, verdict.Winner));
        Assert.Equal("winner", Assert.Single(joiner.Snapshot().Experiments).Verdict!.State);
        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var runs = (await store.SearchRunsAsync([experiment], null, 10)).Runs;
        Assert.Equal(["boosted iris-boosted v1", "logreg iris-logreg v1"], runs.Select(r => r.Info.RunName).Order(StringComparer.Ordinal));
        var logreg = runs.Single(r => r.Tag("mesh.arm") == "logreg");
        Assert.Equal("iris-logreg", logreg.Data.Params!.Single(p => p.Key == "model_name").Value);
        Assert.Equal("1", logreg.Data.Params!.Single(p => p.Key == "model_version").Value);
        Assert.Equal("models:/iris-logreg/1", logreg.Tag("mesh.model_uri"));
        Assert.Equal("boosted", logreg.Tag("mesh.verdict_winner"));
        var accuracy = (await store.GetMetricHistoryAsync(logreg.Info.RunId, "accuracy")).Metrics;
        var stepZero = _bench.Time.GetUtcNow().AddSeconds(-60).ToUnixTimeSeconds() / 60;
        Assert.Equal([stepZero, stepZero + 1], accuracy.Select(m => m.Step));
        Assert.Equal([0.5, 0.5], accuracy.Select(m => m.Value));
        var counts = (await store.GetMetricHistoryAsync(logreg.Info.RunId, "predictions")).Metrics;
        Assert.Equal([300.0, 300.0], counts.Select(m => m.Value));
    }

    [Fact]
    public async Task CloseWindow_PartialLastWindowAndASecondStart_StepsStrictlyIncreaseAndEachStartHasItsOwnEndedRuns()
    {
        var store = new LocalTrackingStore(_bench.Folder, _bench.Time);
        var stepZero = _bench.Time.GetUtcNow().ToUnixTimeSeconds() / 60;
        foreach (var start in new[] { "first", "second" })
        {
            var joiner = new PredictionLabelJoiner(_bench.Time, TimeSpan.FromSeconds(600), 100_000);
            var writer = new TrackingWriter(store, new TrackingWriterOptions { StartId = start, Time = _bench.Time });
            var service = Service(joiner, writer);
            Feed(joiner, 0, 10, logregCorrectEvery: 2);
            service.CloseWindow();
            // Stopped 10 s later: the last, partial window falls in the same window index.
            _bench.Time.Advance(TimeSpan.FromSeconds(10));
            Feed(joiner, 10, 20, logregCorrectEvery: 2);
            service.CloseWindow();
            await writer.CompleteAsync(TimeSpan.FromMinutes(1));
            _bench.Time.Advance(TimeSpan.FromSeconds(120));
        }

        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var runs = (await store.SearchRunsAsync([experiment], null, 10)).Runs.Where(r => r.Tag("mesh.arm") == "logreg").ToList();
        Assert.Equal(["first", "second"], runs.Select(r => r.Tag(TrackingWriter.StartIdTag)).Order(StringComparer.Ordinal));
        Assert.All(runs, r => Assert.Equal(MlflowRunStatus.Finished, r.Info.Status));
        var first = runs.Single(r => r.Tag(TrackingWriter.StartIdTag) == "first");
        var steps = (await store.GetMetricHistoryAsync(first.Info.RunId, "predictions")).Metrics.Select(m => m.Step).ToList();
        Assert.Equal([stepZero, stepZero + 1], steps);
    }

    private WindowCloser Service(PredictionLabelJoiner joiner, TrackingWriter writer) =>
        new(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100),
            new MetricsSinkTelemetry(_bench.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { WindowSeconds = 60, VerdictMinJoined = 100 }), _bench.Time, NullLogger<WindowCloser>.Instance);

    // Every request goes to both arms' runs by parity; boosted is always right, logreg on every n-th.
    private static void Feed(PredictionLabelJoiner joiner, int from, int to, int logregCorrectEvery)
    {
        for (var i = from; i < to; i++)
        {
            joiner.AddPrediction(Make.Prediction($"l{i}", arm: "logreg", predicted: i % logregCorrectEvery == 0 ? "setosa" : "virginica"));
            joiner.AddPrediction(Make.Prediction($"b{i}", arm: "boosted", predicted: "setosa"));
            joiner.AddLabel(Make.Label($"l{i}", "setosa"));
            joiner.AddLabel(Make.Label($"b{i}", "setosa"));
        }
    }
}
