using System.Diagnostics.Metrics;
using Mesh.Consumer.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Consumer.Tests;

/// <summary>The consumer's counters as a metrics reader collects them, present from the start.</summary>
public sealed class ConsumerMetricsTests
{
    [Fact]
    public void AddZeros_FreshConsumer_EveryCounterReportsZero()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ConsumerTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = seen.GetValueOrDefault(instrument.Name) + value);
        listener.Start();
        var telemetry = new ConsumerTelemetry(services.GetRequiredService<IMeterFactory>());

        telemetry.AddZeros();

        Assert.Equal(
            ["mesh.consumer.flushes", "mesh.consumer.records.dead_lettered", "mesh.consumer.records.filtered", "mesh.consumer.records.tombstones", "mesh.consumer.records.written"],
            seen.Keys.Order());
        Assert.All(seen.Values, v => Assert.Equal(0, v));
    }
}
