namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Drift through the sink's own pieces: Predictions through the record handler, windows closed by the window clock,
/// figures on the arm's MLflow run (the local tracking folder), alert events, gauges and the summary.
/// </summary>
public sealed class DriftReportingTests : IDisposable
{
    private const int Window = 200;

    private readonly SinkTestBench _bench = new("mesh-sink-drift-");
    private readonly List<DriftAlert> _alerts = [];

    public void Dispose() => _bench.Dispose();

    [Fact]
    public async Task CloseWindow_ShiftedFeatureThroughTheHandler_RunHasDriftMetricsAlertRaisedOnceAndSummaryWorstFirst()
    {
        var joiner = new PredictionLabelJoiner(_bench.Time, TimeSpan.FromSeconds(600), 100_000);
        var monitor = DriftTraffic.Monitor(DriftTraffic.TrainingProfile(1000, 1));
        var telemetry = new DriftTelemetry(_bench.Services.GetRequiredService<IMeterFactory>(), monitor);
        var reporter = new DriftReporter(monitor, telemetry, new ListAlerts(_alerts), _bench.Time, Microsoft.Extensions.Options.Options.Create(new DriftOptions()), NullLogger<DriftReporter>.Instance);
        var store = new LocalTrackingStore(_bench.Folder, _bench.Time);
        var writer = new TrackingWriter(store);
        var closer = new WindowCloser(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100),
            new MetricsSinkTelemetry(_bench.Services.GetRequiredService<IMeterFactory>()),
            Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { WindowSeconds = 60 }), _bench.Time, NullLogger<WindowCloser>.Instance, drift: reporter);
        var handler = new MetricsRecordHandler(joiner, "labels", drift: monitor);

        // Four windows: two as trained, then petal_length moved up by one standard deviation for two.
        var n = 0;
        foreach (var row in DriftTraffic.Records(4 * Window, 42, new DriftInjectionOptions { Feature = "petal_length", AfterRecords = 2 * Window, Shift = 1 }))
        {
            var result = handler.Handle(Record("predictions", DriftTraffic.Prediction(row, n).ToByteArray()));
            Assert.True(result.Applied, result.Error);
            if (++n % Window == 0)
            {
                closer.CloseWindow();
                _bench.Time.Advance(TimeSpan.FromSeconds(60));
            }
        }

        await writer.CompleteAsync(TimeSpan.FromMinutes(1));

        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var run = Assert.Single((await store.SearchRunsAsync([experiment], null, 10)).Runs);
        var psi = (await store.GetMetricHistoryAsync(run.Info.RunId, "drift.psi.petal_length")).Metrics.Select(m => m.Value).ToList();
        Assert.Equal(4, psi.Count);
        Assert.All(psi.Take(2), v => Assert.True(v < 0.2, $"PSI {v} before the shift"));
        Assert.All(psi.Skip(2), v => Assert.True(v >= 0.2, $"PSI {v} after the shift"));
        var alertHistory = (await store.GetMetricHistoryAsync(run.Info.RunId, "drift.alert.petal_length")).Metrics.Select(m => m.Value);
        Assert.Equal([0.0, 0, 1, 1], alertHistory);
        Assert.Equal([0.0, 0, 0, 0], (await store.GetMetricHistoryAsync(run.Info.RunId, "drift.alert.sepal_width")).Metrics.Select(m => m.Value));
        var accuracySteps = (await store.GetMetricHistoryAsync(run.Info.RunId, "predictions")).Metrics.Select(m => m.Step);
        Assert.Equal(accuracySteps, (await store.GetMetricHistoryAsync(run.Info.RunId, "drift.psi.petal_length")).Metrics.Select(m => m.Step));

        // Raised once, when it started, not every window while it lasts.
        var alert = Assert.Single(_alerts);
        Assert.Equal((DriftAlert.Raised, DriftAlert.FeatureKind, "iris-ab", "logreg", "petal_length", ReferenceProfile.TrainingSource),
            (alert.State, alert.Kind, alert.Experiment, alert.Arm, alert.Feature, alert.Reference));
        Assert.True(alert.Psi >= alert.Threshold);

        var summary = Assert.Single(monitor.Summaries());
        Assert.Equal("petal_length", summary.Features[0].Feature);
        Assert.True(summary.Features[0].Alert);
        Assert.Equal(4, summary.Windows.Count);
        Assert.Equal(4, summary.Features[0].History.Count);
        Assert.Equal([false, false, true, true], summary.Features[0].AlertHistory);
        Assert.All(summary.Features.Skip(1), f => Assert.False(f.Alert));
        using var json = JsonDocument.Parse(SummaryJson.Serialize(joiner.Snapshot() with { Drift = monitor.Summaries() }));
        var drift = json.RootElement.GetProperty("drift")[0];
        Assert.Equal("training", drift.GetProperty("reference").GetString());
        Assert.Equal("petal_length", drift.GetProperty("features")[0].GetProperty("feature").GetString());
    }

    [Fact]
    public void Gauges_AfterAWindow_ReportPsiAndAlertPerFeature()
    {
        var monitor = DriftTraffic.Monitor(DriftTraffic.TrainingProfile(1000, 1));
        var factory = _bench.Services.GetRequiredService<IMeterFactory>();
        _ = new DriftTelemetry(factory, monitor);
        var measurements = new List<(string Name, double Value, string Feature)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This test's meter only: other tests' sinks in the process have meters of the same name.
            if (instrument.Meter.Name == MetricsSinkTelemetry.Name && ReferenceEquals(instrument.Meter.Scope, factory)
                && instrument.Name.StartsWith("mesh.metrics_sink.drift.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var feature = "";
            foreach (var tag in tags)
            {
                feature = tag.Key == "feature" ? (string)tag.Value! : feature;
            }

            measurements.Add((instrument.Name, value, feature));
        });
        listener.Start();
        var n = 0;
        foreach (var row in DriftTraffic.Records(Window, 42, new DriftInjectionOptions { Feature = "sepal_width", Shift = 2 }))
        {
            monitor.Observe(DriftTraffic.Prediction(row, n++));
        }

        monitor.CloseWindow(0);
        listener.RecordObservableInstruments();

        Assert.Equal(1, measurements.Single(m => m.Name == "mesh.metrics_sink.drift.alert" && m.Feature == "sepal_width").Value);
        Assert.Equal(0, measurements.Single(m => m.Name == "mesh.metrics_sink.drift.alert" && m.Feature == "petal_width").Value);
        Assert.True(measurements.Single(m => m.Name == "mesh.metrics_sink.drift.psi" && m.Feature == "sepal_width").Value >= 0.2);
        Assert.Equal(4, measurements.Count(m => m.Name == "mesh.metrics_sink.drift.ks_p_value"));
        Assert.Single(measurements, m => m.Name == "mesh.metrics_sink.drift.prediction_psi");
    }

    private static ConsumeResult<byte[], byte[]> Record(string topic, byte[] value) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, 0, 0),
        Message = new Message<byte[], byte[]> { Key = [], Value = value },
    };

    private sealed class ListAlerts(List<DriftAlert> alerts) : IDriftAlertSink
    {
        public void Publish(DriftAlert alert) => alerts.Add(alert);
    }
}
