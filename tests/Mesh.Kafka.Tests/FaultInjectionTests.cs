namespace Mesh.Kafka.Tests;

/// <summary>
/// The shared clients under the faults the embedded broker's own fault API injects (librdkafka's mock cluster):
/// produce errors, added latency, the broker down for at least 5 s mid-stream. Nothing is lost, the clients
/// recover by themselves, and the health verdict says what is happening throughout.
/// </summary>
public sealed class FaultInjectionTests
{
    private const string Topic = "faults";
    private const short ProduceApiKey = 0;
    private const int NotLeaderOrFollower = 6;
    private const int RequestTimedOut = 7;
    private const int PerPhase = 200;

    [Fact]
    public void ProducerAndGroup_ProduceErrorsLatencyAndBrokerDown_NothingLostAndHealthTruthful()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic(Topic, partitions: 2);
        var factory = SharedClients.Factory(broker.BootstrapServers);
        using var producer = factory.CreateProducer("fault-producer");
        using var consumer = factory.CreateConsumer("fault-group", "fault-consumer");
        consumer.Subscribe(Topic);
        var received = new HashSet<int>();
        var failedDeliveries = 0;
        var next = 0;
        void ProduceBatch()
        {
            for (var i = 0; i < PerPhase; i++, next++)
            {
                producer.Produce(Topic, new Message<byte[], byte[]> { Key = [], Value = Encoding.UTF8.GetBytes(next.ToString(CultureInfo.InvariantCulture)) }, report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.Increment(ref failedDeliveries);
                    }
                });
            }
        }

        Assert.True(ConsumeUntil(consumer, received, () => factory.Health.Evaluate().Status == HealthStatus.Healthy), "ready before the stream");

        // Produce requests fail (retriable errors the idempotent producer must retry without duplicating or losing).
        broker.PushRequestErrors(ProduceApiKey, NotLeaderOrFollower, RequestTimedOut, NotLeaderOrFollower);
        ProduceBatch();
        Assert.True(ConsumeUntil(consumer, received, () => received.Count == next), "read through the produce errors");

        // Slow answers: every request the broker handles waits 100 ms more.
        broker.SetBrokerRtt(1, 100);
        ProduceBatch();
        Assert.True(ConsumeUntil(consumer, received, () => received.Count == next), "read through the added latency");
        broker.SetBrokerRtt(1, 0);

        // The broker goes away mid-stream: records produced meanwhile wait in the producer.
        broker.SetBrokerDown(1);
        var down = Stopwatch.StartNew();
        ProduceBatch();
        var sawUnhealthy = ConsumeUntil(consumer, received, () => factory.Health.Evaluate().Status == HealthStatus.Unhealthy);
        // Keep it down for at least 5 s, whatever the machine's speed.
        ConsumeUntil(consumer, received, () => down.Elapsed >= TimeSpan.FromSeconds(5));
        var verdictWhileDown = factory.Health.Evaluate();
        broker.SetBrokerUp(1);

        Assert.True(sawUnhealthy, "unhealthy while the broker is down");
        Assert.Equal(HealthStatus.Unhealthy, verdictWhileDown.Status);
        Assert.True(ConsumeUntil(consumer, received, () => received.Count == next), $"read everything after the outage ({received.Count} of {next})");
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, failedDeliveries);
        Assert.Equal(Enumerable.Range(0, 3 * PerPhase), received.Order());
        Assert.True(ConsumeUntil(consumer, received, () => factory.Health.Evaluate().Status == HealthStatus.Healthy), "healthy again after the outage");
    }

    // Consumes, storing offsets as the services do, until the condition holds; false when patience ran out.
    private static bool ConsumeUntil(IConsumer<byte[], byte[]> consumer, HashSet<int> received, Func<bool> condition) =>
        SharedClients.PollUntil([consumer], condition, (c, record) =>
        {
            received.Add(int.Parse(Encoding.UTF8.GetString(record.Message.Value), CultureInfo.InvariantCulture));
            c.StoreOffset(record);
        });
}
