namespace Mesh.MetricsSink.Tests;

/// <summary>Declared outcomes per arm against hand-computed values: the summary, MLflow's per-window metrics and /metrics.</summary>
public sealed class CustomOutcomeFiguresTests : IDisposable
{
    private readonly SinkTestBench _bench = new("mesh-sink-outcomes-");

    public void Dispose() => _bench.Dispose();

    [Fact]
    public void Snapshot_LabelsWithOutcomes_ArmMeanSumRateAndMissingInSummary()
    {
        var joiner = Outcomes.Joiner(_bench.Time);
        Feed(joiner);

        var summary = joiner.Snapshot();

        var arms = Assert.Single(summary.Experiments).Arms.ToDictionary(a => a.Arm);
        var logreg = arms["logreg"].Outcomes!.ToDictionary(o => o.Name);
        // revenue 10, 20, 30 (the fourth label lacks it): mean 20 over 3, one missing, not a mean of 15 over 4.
        Assert.Equal(("mean", 20.0, 3L, 1L, 60.0), (logreg["revenue"].Aggregate, logreg["revenue"].Value!.Value, logreg["revenue"].Count, logreg["revenue"].Missing, logreg["revenue"].Sum));
        // clicked 1, 0, 1, 1: rate 0.75.
        Assert.Equal(("rate", 0.75, 4L, 0L), (logreg["clicked"].Aggregate, logreg["clicked"].Value!.Value, logreg["clicked"].Count, logreg["clicked"].Missing));
        // cost 0.5 and 1.5 on two labels: sum 2, two missing.
        Assert.Equal(("sum", 2.0, 2L, 2L), (logreg["cost"].Aggregate, logreg["cost"].Value!.Value, logreg["cost"].Count, logreg["cost"].Missing));
        var boosted = arms["boosted"].Outcomes!.ToDictionary(o => o.Name);
        // b1 carried no outcome at all: missing for each declared one.
        Assert.Equal((5.0, 1L, 1L), (boosted["revenue"].Value!.Value, boosted["revenue"].Count, boosted["revenue"].Missing));
        // Neither label carried cost: no value, not a sum of zero.
        Assert.Equal((0L, 2L), (boosted["cost"].Count, boosted["cost"].Missing));
        Assert.Null(boosted["cost"].Value);

        using var json = JsonDocument.Parse(SummaryJson.Serialize(summary));
        var revenue = json.RootElement.GetProperty("experiments")[0].GetProperty("arms").EnumerateArray()
            .Single(a => a.GetProperty("arm").GetString() == "logreg").GetProperty("outcomes")[0];
        Assert.Equal("revenue", revenue.GetProperty("name").GetString());
        Assert.Equal(20.0, revenue.GetProperty("mean").GetDouble());
        Assert.Equal(1, revenue.GetProperty("missing").GetInt64());
    }

    [Fact]
    public void Snapshot_ExperimentWithoutDeclaredOutcomes_LabelOutcomesAreNotAggregated()
    {
        var joiner = Outcomes.Joiner(_bench.Time);
        joiner.AddPrediction(Make.Prediction("p1", experiment: "plain"));
        joiner.AddLabel(Outcomes.Label("p1", ("revenue", 10)));

        Assert.Null(Assert.Single(Assert.Single(joiner.Snapshot().Experiments).Arms).Outcomes);
    }

    [Fact]
    public void Snapshot_JoinByEntityAndTimeLabelBeforeItsPrediction_KeepsTheLabelsOutcomes()
    {
        var joiner = new Aggregation.PredictionLabelJoiner(_bench.Time, TimeSpan.FromMinutes(10), 1000, Options.JoinBy.EntityTime, outcomes: Outcomes.Catalog());
        var observed = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc));
        // The label waits for a prediction of its entity made at or before its observed time.
        var label = Outcomes.Label("label-only", ("revenue", 42), ("clicked", 1));
        label.RequestId = "";
        label.ObservedTime = observed;
        joiner.AddLabel(label);
        var prediction = Make.Prediction("p1", arm: "logreg", experiment: "shop");
        prediction.EventTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(new DateTime(2026, 12, 1, 11, 59, 0, DateTimeKind.Utc));
        joiner.AddPrediction(prediction);

        var outcomes = Assert.Single(Assert.Single(joiner.Snapshot().Experiments).Arms).Outcomes!.ToDictionary(o => o.Name);

        Assert.Equal((42.0, 1L, 0L), (outcomes["revenue"].Value!.Value, outcomes["revenue"].Count, outcomes["revenue"].Missing));
        Assert.Equal(1.0, outcomes["clicked"].Rate);
    }

    [Fact]
    public async Task CloseWindow_LabelsWithOutcomes_MlflowMetricsAndGaugesPerOutcome()
    {
        var joiner = Outcomes.Joiner(_bench.Time);
        var store = new LocalTrackingStore(_bench.Folder, _bench.Time);
        var writer = new TrackingWriter(store);
        var factory = _bench.Services.GetRequiredService<IMeterFactory>();
        var telemetry = new MetricsSinkTelemetry(factory);
        var closer = new WindowCloser(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100), telemetry,
            Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { WindowSeconds = 60 }), _bench.Time, NullLogger<WindowCloser>.Instance);
        Feed(joiner);

        closer.CloseWindow();
        await writer.CompleteAsync(TimeSpan.FromMinutes(1));
        var gauges = Observe(factory);

        var experiment = await store.GetOrCreateExperimentAsync("shop");
        var run = (await store.SearchRunsAsync([experiment], null, 10)).Runs.Single(r => r.Info.RunName == "logreg iris-logreg v1");
        async Task<double> Metric(string key) => Assert.Single((await store.GetMetricHistoryAsync(run.Info.RunId, key)).Metrics).Value;
        Assert.Equal(20.0, await Metric("outcome.revenue.mean"));
        Assert.Equal(3.0, await Metric("outcome.revenue.count"));
        Assert.Equal(1.0, await Metric("outcome.revenue.missing"));
        Assert.Equal(0.75, await Metric("outcome.clicked.rate"));
        Assert.Equal(2.0, await Metric("outcome.cost.sum"));
        Assert.Equal(20.0, gauges[("mesh.metrics_sink.window.outcome", "logreg", "revenue")]);
        Assert.Equal(0.75, gauges[("mesh.metrics_sink.window.outcome", "logreg", "clicked")]);
        Assert.Equal(2.0, gauges[("mesh.metrics_sink.window.outcome_missing", "logreg", "cost")]);
        Assert.Equal(1.0, gauges[("mesh.metrics_sink.window.outcome_missing", "boosted", "revenue")]);
    }

    // logreg: four labels with some outcomes missing; boosted: one with revenue 5, clicked 0, and one with none.
    private static void Feed(Aggregation.PredictionLabelJoiner joiner)
    {
        (string Name, double Value)[][] labels =
        [
            [("revenue", 10), ("clicked", 1), ("cost", 0.5)],
            [("revenue", 20), ("clicked", 0)],
            [("revenue", 30), ("clicked", 1), ("cost", 1.5)],
            [("clicked", 1), ("unknown", 99)],
        ];
        for (var i = 0; i < labels.Length; i++)
        {
            joiner.AddPrediction(Make.Prediction($"l{i}", arm: "logreg", experiment: "shop"));
            joiner.AddLabel(Outcomes.Label($"l{i}", labels[i]));
        }

        joiner.AddPrediction(Make.Prediction("b0", arm: "boosted", experiment: "shop"));
        joiner.AddLabel(Outcomes.Label("b0", ("revenue", 5), ("clicked", 0)));
        joiner.AddPrediction(Make.Prediction("b1", arm: "boosted", experiment: "shop"));
        joiner.AddLabel(Outcomes.Label("b1"));
    }

    private static Dictionary<(string Instrument, string Arm, string Outcome), double> Observe(IMeterFactory factory) =>
        GaugeReadings.Read(factory, i => i.Name.StartsWith("mesh.metrics_sink.window.outcome", StringComparison.Ordinal), (name, tag) => (name, tag("arm"), tag("outcome")));
}
