using System.Diagnostics.Metrics;
using Mesh.Producer.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Producer.Tests;

/// <summary>The producer's counters as a metrics reader collects them, present from the start.</summary>
public sealed class ProducerMetricsTests
{
    [Fact]
    public void AddZeros_FreshProducer_EveryCounterReportsZero()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ProducerTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = seen.GetValueOrDefault(instrument.Name) + value);
        listener.Start();
        var telemetry = new ProducerTelemetry(services.GetRequiredService<IMeterFactory>());

        telemetry.AddZeros();

        Assert.Equal(
            ["mesh.producer.csv.bad_rows", "mesh.producer.labels.acked", "mesh.producer.labels.failed", "mesh.producer.labels.sent", "mesh.producer.records.acked", "mesh.producer.records.failed", "mesh.producer.records.sent"],
            seen.Keys.Order());
        Assert.All(seen.Values, v => Assert.Equal(0, v));
    }
}
