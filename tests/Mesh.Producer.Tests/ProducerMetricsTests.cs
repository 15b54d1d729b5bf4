namespace Mesh.Producer.Tests;

/// <summary>The producer's counters as a metrics reader collects them, present from the start.</summary>
public sealed class ProducerMetricsTests
{
    [Fact]
    public void AddZeros_FreshProducer_EveryCounterReportsZero()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        var totals = CounterTotals.While(ProducerTelemetry.Name, services.GetRequiredService<IMeterFactory>(), () => new ProducerTelemetry(services.GetRequiredService<IMeterFactory>()).AddZeros());

        Assert.Equal(
            ["mesh.producer.csv.bad_rows", "mesh.producer.labels.acked", "mesh.producer.labels.failed", "mesh.producer.labels.sent", "mesh.producer.records.acked", "mesh.producer.records.failed", "mesh.producer.records.sent"],
            totals.Keys.Order());
        Assert.All(totals.Values, v => Assert.Equal(0, v));
    }
}
