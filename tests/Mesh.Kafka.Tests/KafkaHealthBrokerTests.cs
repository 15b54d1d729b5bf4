namespace Mesh.Kafka.Tests;

/// <summary>What the shared clients report on the embedded broker, whose fault API takes the broker down and up.</summary>
public sealed class KafkaHealthBrokerTests
{
    [Fact]
    public void Evaluate_ConsumerThroughJoinOutageAndReturn_ReportsEachStateTruthfully()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic("health-topic", partitions: 2);
        var factory = Factory(broker.BootstrapServers);
        using var consumer = factory.CreateConsumer("health-group", "health-client");

        // Made, not yet subscribed: not ready.
        Assert.Equal(HealthStatus.Unhealthy, factory.Health.Evaluate().Status);

        consumer.Subscribe("health-topic");
        Assert.True(PollUntil(consumer, () => factory.Health.Evaluate().Status == HealthStatus.Healthy), "ready after the assignment");
        Assert.NotEmpty(consumer.Assignment);

        broker.SetBrokerDown(1);
        Assert.True(PollUntil(consumer, () => factory.Health.Evaluate().Status == HealthStatus.Unhealthy), "unhealthy while the broker is down");
        Assert.Contains("reached no broker", factory.Health.Evaluate().Description, StringComparison.Ordinal);

        broker.SetBrokerUp(1);
        Assert.True(PollUntil(consumer, () => factory.Health.Evaluate().Status == HealthStatus.Healthy), "healthy once the broker is back");
    }

    [Fact]
    public void Evaluate_SecondMemberWithNoPartitionLeft_ReadyAfterItsEmptyAssignment()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic("one-partition", partitions: 1);
        var first = Factory(broker.BootstrapServers);
        var second = Factory(broker.BootstrapServers);
        using var a = first.CreateConsumer("pair", "a");
        using var b = second.CreateConsumer("pair", "b");
        a.Subscribe("one-partition");
        b.Subscribe("one-partition");
        try
        {
            Assert.True(PollUntil([a, b], () => first.Health.Evaluate().Status == HealthStatus.Healthy && second.Health.Evaluate().Status == HealthStatus.Healthy));
            Assert.Equal(1, a.Assignment.Count + b.Assignment.Count);
        }
        finally
        {
            // Two members of one group on one thread: closing one may wait on a rebalance that only the other, polled
            // meanwhile, can finish (seen hanging a CI run). A service has one member per process; here both close at once.
            Parallel.Invoke(a.Close, b.Close);
        }
    }

    private static bool PollUntil(IConsumer<byte[], byte[]> consumer, Func<bool> condition) => SharedClients.PollUntil([consumer], condition);

    private static bool PollUntil(IConsumer<byte[], byte[]>[] consumers, Func<bool> condition) => SharedClients.PollUntil(consumers, condition);

    private static KafkaClientFactory Factory(string bootstrap) => SharedClients.Factory(bootstrap);
}
