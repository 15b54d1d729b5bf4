namespace Mesh.MetricsSink.Tests;

/// <summary>The sink's figures as a metrics reader collects them: error counters from zero, latencies in seconds.</summary>
public sealed class SinkMetricsTests
{
    [Fact]
    public void AddZeros_FreshSink_EveryCounterReportsZero()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        var seen = CounterTotals.While(MetricsSinkTelemetry.Name, services.GetRequiredService<IMeterFactory>(), () => new MetricsSinkTelemetry(services.GetRequiredService<IMeterFactory>()).AddZeros());

        foreach (var counter in new[] { "dead_lettered", "unmatched_labels", "unjoined_predictions", "tracking.dropped", "duplicates", "predictions", "labels", "joins" })
        {
            Assert.True(seen.TryGetValue("mesh.metrics_sink." + counter, out var value), $"mesh.metrics_sink.{counter} reported nothing");
            Assert.Equal(0, value);
        }
    }

    [Fact]
    public void LatencyGauges_WindowWithLatencies_ReportSecondsUnderUnitS()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var p99 = new List<double>();
        var units = new Dictionary<string, string?>(StringComparer.Ordinal);
        var factory = services.GetRequiredService<IMeterFactory>();
        using var listener = Listen(factory, (instrument, value) =>
        {
            if (instrument == "mesh.metrics_sink.window.latency_p99")
            {
                p99.Add(value);
            }
        }, units);
        var telemetry = new MetricsSinkTelemetry(factory);
        var counters = new OutcomeCounters();
        for (var i = 0; i < 100; i++)
        {
            counters.Latency.Record(200);
        }

        telemetry.LatestWindows = [new ArmWindow("exp", "a", false, "m", "1", "p", counters)];
        listener.RecordObservableInstruments();

        Assert.Equal("s", units["mesh.metrics_sink.window.latency_p99"]);
        var seconds = Assert.Single(p99);
        // Every sample was 200 ms: the percentile is exactly that, in seconds.
        Assert.Equal(0.2, seconds, 9);
    }

    /// <summary>
    /// Listens to the sink meter of <paramref name="factory"/> only: sinks of tests running beside this one have meters
    /// of the same name in the process, whose gauges would be observed too.
    /// </summary>
    private static MeterListener Listen(IMeterFactory factory, Action<string, double> onMeasurement, Dictionary<string, string?>? units = null)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == MetricsSinkTelemetry.Name && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    units?.TryAdd(instrument.Name, instrument.Unit);
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => onMeasurement(instrument.Name, value));
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => onMeasurement(instrument.Name, value));
        listener.Start();
        return listener;
    }
}
