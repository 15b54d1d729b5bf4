namespace Mesh.Consumer.Tests;

/// <summary>The consumer's counters as a metrics reader collects them, present from the start.</summary>
public sealed class ConsumerMetricsTests
{
    [Fact]
    public void AddZeros_FreshConsumer_EveryCounterReportsZero()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        var totals = CounterTotals.While(ConsumerTelemetry.Name, services.GetRequiredService<IMeterFactory>(), () => new ConsumerTelemetry(services.GetRequiredService<IMeterFactory>()).AddZeros());

        Assert.Equal(
            ["mesh.consumer.flushes", "mesh.consumer.records.dead_lettered", "mesh.consumer.records.duplicates", "mesh.consumer.records.filtered", "mesh.consumer.records.tombstones", "mesh.consumer.records.written"],
            totals.Keys.Order());
        Assert.All(totals.Values, v => Assert.Equal(0, v));
    }
}
