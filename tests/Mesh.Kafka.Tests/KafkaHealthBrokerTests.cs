using Mesh.EmbeddedBroker;
using Mesh.Kafka.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka.Tests;

/// <summary>What the shared clients report on the embedded broker, whose fault API takes the broker down and up.</summary>
public sealed class KafkaHealthBrokerTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

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

        Assert.True(PollUntil([a, b], () => first.Health.Evaluate().Status == HealthStatus.Healthy && second.Health.Evaluate().Status == HealthStatus.Healthy));
        Assert.Equal(1, a.Assignment.Count + b.Assignment.Count);
    }

    private static bool PollUntil(Confluent.Kafka.IConsumer<byte[], byte[]> consumer, Func<bool> condition) => PollUntil([consumer], condition);

    // The consumer's callbacks (statistics, rebalances) run inside Consume, as in a service's consume loop.
    private static bool PollUntil(Confluent.Kafka.IConsumer<byte[], byte[]>[] consumers, Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var consumer in consumers)
            {
                try
                {
                    consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (Confluent.Kafka.ConsumeException)
                {
                }
            }

            if (condition())
            {
                return true;
            }
        }

        return false;
    }

    private static KafkaClientFactory Factory(string bootstrap)
    {
        var options = new KafkaOptions
        {
            BootstrapServers = bootstrap,
            Health = new KafkaHealthOptions { UnhealthyAfterSeconds = 0, StatisticsIntervalMs = 200 },
        };
        var configuration = new ConfigurationBuilder().Build();
        return new KafkaClientFactory(Options.Create(options), configuration, NullLoggerFactory.Instance, new KafkaHealth(Options.Create(options), TimeProvider.System));
    }
}
