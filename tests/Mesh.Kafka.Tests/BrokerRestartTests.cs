namespace Mesh.Kafka.Tests;

/// <summary>An embedded broker started on fixed ports comes back at the same address after a restart.</summary>
public sealed class BrokerRestartTests
{
    [Fact]
    public void Start_PortZero_AdvertisesAndServesThePortItBound()
    {
        using var broker = EmbeddedKafkaBroker.Start(1, 0);
        var port = BoundPort(broker);
        broker.CreateTopic("fixed", 1);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));

        Assert.Equal($"127.0.0.1:{port}", broker.BootstrapServers);
        Assert.Equal(port, Assert.Single(metadata.Brokers).Port);
    }

    [Fact]
    public void Clients_BrokerRestartedOnTheSamePort_KeepProducingAndConsuming()
    {
        // Port 0 the first time: the port it bound is the fixed port of the restart.
        var broker = EmbeddedKafkaBroker.Start(1, 0);
        var port = BoundPort(broker);
        try
        {
            broker.CreateTopic("restart", 1);
            var factory = SharedClients.Factory(broker.BootstrapServers, unhealthyAfterSeconds: 15);
            using var producer = factory.CreateProducer("restart-producer");
            using var consumer = factory.CreateConsumer("restart-group", "restart-consumer");
            consumer.Subscribe("restart");

            Produce(producer, "before");
            Assert.Equal("before", ReadOne(consumer));

            broker.Dispose();
            broker = EmbeddedKafkaBroker.Start(1, port);
            broker.CreateTopic("restart", 1);

            // The same clients, never told of the restart: librdkafka reconnects to the address it has. Two records,
            // because the new broker's log starts again at 0 and the consumer may still be at its old position, 1.
            Produce(producer, "after");
            Produce(producer, "after");
            Assert.Equal("after", ReadOne(consumer));
            Assert.True(SharedClients.PollUntil([consumer], () => factory.Health.Evaluate().Status == HealthStatus.Healthy));
        }
        finally
        {
            broker.Dispose();
        }
    }

    private static void Produce(IProducer<byte[], byte[]> producer, string value)
    {
        var deadline = DateTime.UtcNow + SharedClients.Patience;
        while (true)
        {
            try
            {
                producer.ProduceAsync("restart", new Message<byte[], byte[]> { Key = [], Value = Encoding.UTF8.GetBytes(value) }).GetAwaiter().GetResult();
                return;
            }
            catch (ProduceException<byte[], byte[]>) when (DateTime.UtcNow < deadline)
            {
                // Timed out while the broker was away, or the topic is not there yet: the retry is the client's next attempt.
            }
        }
    }

    private static string? ReadOne(IConsumer<byte[], byte[]> consumer)
    {
        var deadline = DateTime.UtcNow + SharedClients.Patience;
        while (DateTime.UtcNow < deadline)
        {
            var record = consumer.ConsumeNext(TimeSpan.FromMilliseconds(200), NullLogger.Instance);
            if (record is not null)
            {
                return Encoding.UTF8.GetString(record.Message.Value);
            }
        }

        return null;
    }

    private static int BoundPort(EmbeddedKafkaBroker broker)
    {
        var port = int.Parse(broker.BootstrapServers[(broker.BootstrapServers.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(0, port);
        return port;
    }
}
