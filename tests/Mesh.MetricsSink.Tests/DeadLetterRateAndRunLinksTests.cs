namespace Mesh.MetricsSink.Tests;

/// <summary>
/// The router's dead letters as each arm's dead-letter rate (summary, MLflow, /metrics), the strategy and weight
/// the router puts in every Prediction as run params, and each arm's run linked to its model version's training run.
/// </summary>
public sealed class DeadLetterRateAndRunLinksTests : IDisposable
{
    private const string DeadLetterTopic = "dead-letters";
    private readonly SinkTestBench _bench = new("mesh-sink-dl-");

    public void Dispose() => _bench.Dispose();

    [Fact]
    public void Snapshot_ThreeDeadLettersAndNinetySevenPredictions_ArmRateIsThreeHundredthsAndTheRestUnattributed()
    {
        var joiner = NewJoiner();
        var handler = new MetricsRecordHandler(joiner, "labels", DeadLetterTopic);
        Feed(joiner, "logreg", 97, strategy: "ab", weight: "0.25");
        joiner.AddPrediction(Make.Prediction("s0", arm: "challenger", shadow: true));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(handler.Handle(DeadLetterRecord(new DeadLetter { Service = "router", Experiment = "iris-ab", Arm = "logreg", ErrorClass = "inference" })).Applied);
        }

        // Before any arm (decode), an experiment without arm, another service's, and a record that is no DeadLetter.
        handler.Handle(DeadLetterRecord(new DeadLetter { Service = "router", ErrorClass = "decode" }));
        handler.Handle(DeadLetterRecord(new DeadLetter { Service = "router", Experiment = "iris-ab", ErrorClass = "validation" }));
        var others = handler.Handle(DeadLetterRecord(new DeadLetter { Service = "consumer", Experiment = "iris-ab", Arm = "logreg" }));
        var garbage = handler.Handle(new ConsumeResult<byte[], byte[]> { Topic = DeadLetterTopic, Message = new Message<byte[], byte[]> { Value = [0xFF, 0x00, 0xFF] } });

        var summary = joiner.Snapshot();

        var arms = Assert.Single(summary.Experiments).Arms.ToDictionary(a => a.Arm);
        Assert.Equal((97L, 3L, 0.03), (arms["logreg"].Predictions, arms["logreg"].DeadLetters, arms["logreg"].DeadLetterRate));
        Assert.Null(arms["challenger"].DeadLetterRate);
        Assert.Equal(1, summary.UnattributedDeadLetters!.WithoutExperiment);
        Assert.Equal(1, summary.UnattributedDeadLetters.ByExperiment["iris-ab"]);
        // Dead letters are not predictions: 97 primary and the one shadow.
        Assert.Equal(98, summary.Predictions);
        // Never sent to the dead-letter topic again: it would come straight back.
        Assert.Equal((true, true, null), (others.Applied, others.IsDeadLetter, others.DeadLetter));
        Assert.Equal((true, true), (garbage.Applied, garbage.IsDeadLetter));
        using var json = JsonDocument.Parse(SummaryJson.Serialize(summary));
        var logreg = json.RootElement.GetProperty("experiments")[0].GetProperty("arms").EnumerateArray().Single(a => a.GetProperty("arm").GetString() == "logreg");
        Assert.Equal(0.03, logreg.GetProperty("deadLetterRate").GetDouble());
        Assert.Equal(3, logreg.GetProperty("deadLetters").GetInt64());
        Assert.Equal(1, json.RootElement.GetProperty("unattributedDeadLetters").GetProperty("withoutExperiment").GetInt64());
    }

    [Fact]
    public async Task CloseWindow_RealMlflowWithRegistry_ParamsStrategyWeightDeadLetterMetricsAndTrainingRunTag()
    {
        await using var tracking = await FakeMlflowTrackingServer.StartAsync();
        await using var registry = await FakeMlflowServer.StartAsync();
        registry.AddVersion("iris-logreg", "1", "train-run-7");
        var tagger = new ModelRunTagger(
            new MlflowTrackingClient(new MlflowClient(new HttpClient(), new MlflowClientOptions { TrackingUri = tracking.Uri })),
            new MlflowClient(new HttpClient(), new MlflowClientOptions { TrackingUri = registry.Uri }).GetModelVersionAsync,
            _bench.Time,
            NullLogger<ModelRunTagger>.Instance);
        var joiner = NewJoiner();
        var writer = new TrackingWriter(tagger);
        var telemetry = new TelemetryProbe(_bench.Services);
        var service = NewService(joiner, writer, telemetry.Telemetry);

        // Window 1: logreg 97 predictions and 3 dead letters; boosted (a version the registry does not have) 50 and none.
        Feed(joiner, "logreg", 97, strategy: "ab", weight: "0.25");
        Feed(joiner, "boosted", 50, strategy: "ab", weight: "0.75");
        for (var i = 0; i < 3; i++)
        {
            joiner.AddDeadLetter("iris-ab", "logreg");
        }

        service.CloseWindow();
        var gauges = telemetry.Observe("mesh.metrics_sink.window.dead_letter_rate");
        // Window 2: logreg's host fails on every record it is given; boosted answers one.
        _bench.Time.Advance(TimeSpan.FromSeconds(60));
        for (var i = 0; i < 4; i++)
        {
            joiner.AddDeadLetter("iris-ab", "logreg");
        }

        Feed(joiner, "boosted", 1, strategy: "ab", weight: "0.75", from: 50);

        service.CloseWindow();
        await writer.CompleteAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((0, 0), (writer.Pending, writer.Failed));
        var logreg = tracking.RunByName("logreg iris-logreg v1");
        Assert.NotNull(logreg);
        Assert.Equal("ab", logreg.Params["strategy"]);
        Assert.Equal("0.25", logreg.Params["weight"]);
        Assert.Equal("train-run-7", logreg.Tags["mesh.model_run_id"]);
        Assert.Equal("models:/iris-logreg/1", logreg.Tags["mesh.model_uri"]);
        Assert.Equal([0.03, 1.0], logreg.Metrics.Where(m => m.Key == "dead_letter_rate").OrderBy(m => m.Step).Select(m => m.Value));
        Assert.Equal([3.0, 4.0], logreg.Metrics.Where(m => m.Key == "dead_letters").OrderBy(m => m.Step).Select(m => m.Value));
        Assert.Equal([0.25, 0.25], logreg.Metrics.Where(m => m.Key == "weight").Select(m => m.Value));
        // Not registered: logged, and the run is written all the same, without the link.
        var boosted = tracking.RunByName("boosted iris-boosted v1");
        Assert.NotNull(boosted);
        Assert.Equal(("ab", "0.75"), (boosted.Params["strategy"], boosted.Params["weight"]));
        Assert.False(boosted.Tags.ContainsKey("mesh.model_run_id"));
        Assert.Equal([0.0, 0.0], boosted.Metrics.Where(m => m.Key == "dead_letter_rate").Select(m => m.Value));
        // One lookup per model version over both windows, the failed one included (asked again only after RetryAfter).
        Assert.Equal(2, registry.Requests);
        Assert.Equal(0.03, gauges[("iris-ab", "logreg")]);
        Assert.Equal(0.0, gauges[("iris-ab", "boosted")]);
    }

    [Fact]
    public async Task CloseWindow_WeightChangedBetweenWindows_NewRunWhoseParamSaysTheNewWeight()
    {
        var joiner = NewJoiner();
        var store = new LocalTrackingStore(_bench.Folder, _bench.Time);
        var writer = new TrackingWriter(store);
        var telemetry = new TelemetryProbe(_bench.Services);
        var service = NewService(joiner, writer, telemetry.Telemetry);

        Feed(joiner, "logreg", 10, strategy: "ab", weight: "50");
        service.CloseWindow();
        _bench.Time.Advance(TimeSpan.FromSeconds(60));
        Feed(joiner, "logreg", 10, strategy: "ab", weight: "80", from: 10);
        service.CloseWindow();
        await writer.CompleteAsync(TimeSpan.FromMinutes(1));

        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var runs = (await store.SearchRunsAsync([experiment], null, 10)).Runs;
        // Two runs of the arm, with the same name, told apart by their params (and run key).
        Assert.Equal(["logreg iris-logreg v1", "logreg iris-logreg v1"], runs.Select(r => r.Info.RunName));
        Assert.Equal(["50", "80"], runs.Select(r => r.Data.Params!.Single(p => p.Key == "weight").Value).Order(StringComparer.Ordinal));
        Assert.All(runs, r => Assert.Equal("ab", r.Data.Params!.Single(p => p.Key == "strategy").Value));
        foreach (var run in runs)
        {
            var weight = run.Data.Params!.Single(p => p.Key == "weight").Value;
            var predictions = (await store.GetMetricHistoryAsync(run.Info.RunId, "predictions")).Metrics;
            var weights = (await store.GetMetricHistoryAsync(run.Info.RunId, "weight")).Metrics;
            // Each run holds the one window predicted under its weight.
            Assert.Equal([10.0], predictions.Select(m => m.Value));
            Assert.Equal([double.Parse(weight, System.Globalization.CultureInfo.InvariantCulture)], weights.Select(m => m.Value));
        }
    }

    private PredictionLabelJoiner NewJoiner() => new(_bench.Time, TimeSpan.FromSeconds(600), 100_000);

    private WindowCloser NewService(PredictionLabelJoiner joiner, TrackingWriter writer, MetricsSinkTelemetry telemetry) =>
        new(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100), telemetry,
            Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { WindowSeconds = 60, VerdictMinJoined = 100 }), _bench.Time,
            NullLogger<WindowCloser>.Instance);

    private static void Feed(PredictionLabelJoiner joiner, string arm, int count, string strategy, string weight, int from = 0)
    {
        for (var i = from; i < from + count; i++)
        {
            var prediction = Make.Prediction($"{arm}-{i}", arm: arm);
            prediction.Context["mesh.strategy"] = strategy;
            prediction.Context["mesh.weight"] = weight;
            joiner.AddPrediction(prediction);
        }
    }

    private static ConsumeResult<byte[], byte[]> DeadLetterRecord(DeadLetter letter) =>
        new() { Topic = DeadLetterTopic, Message = new Message<byte[], byte[]> { Value = letter.ToByteArray() } };

    /// <summary>The sink's telemetry on a meter of its own, read the way a Prometheus scrape reads it.</summary>
    private sealed class TelemetryProbe(IServiceProvider services)
    {
        public MetricsSinkTelemetry Telemetry { get; } = new(services.GetRequiredService<IMeterFactory>());

        public Dictionary<(string Experiment, string Arm), double> Observe(string instrument) =>
            GaugeReadings.Read(services.GetRequiredService<IMeterFactory>(), i => i.Name == instrument, (_, tag) => (tag("experiment"), tag("arm")));
    }
}
