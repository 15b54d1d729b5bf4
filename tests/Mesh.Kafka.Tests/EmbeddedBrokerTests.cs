namespace Mesh.Kafka.Tests;

/// <summary>The embedded broker speaks the Kafka protocol to ordinary Confluent clients over loopback sockets.</summary>
public sealed class EmbeddedBrokerTests
{
    [Fact]
    public void Start_CreatedTopic_ProducedRecordsAreConsumedBackByAGroupInOrder()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic("round-trip", partitions: 3);
        Assert.StartsWith("127.0.0.1:", broker.BootstrapServers, StringComparison.Ordinal);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < 100; i++)
            {
                producer.Produce("round-trip", new Message<string, string> { Key = "k" + (i % 7), Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "g",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("round-trip");
        var byKey = new Dictionary<string, List<int>>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var count = 0;
        while (count < 100 && DateTime.UtcNow < deadline)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is null)
            {
                continue;
            }

            count++;
            if (!byKey.TryGetValue(record.Message.Key, out var values))
            {
                byKey[record.Message.Key] = values = [];
            }

            values.Add(int.Parse(record.Message.Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(100, count);
        // Per key (so per partition), order is kept.
        Assert.All(byKey.Values, values => Assert.Equal(values.Order(), values));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        Assert.Equal(3, admin.GetMetadata("round-trip", TimeSpan.FromSeconds(5)).Topics.Single().Partitions.Count);
    }

    [Fact]
    public void CreateTopic_NonPositivePartitions_Throws()
    {
        using var broker = EmbeddedKafkaBroker.Start();

        Assert.Throws<ArgumentOutOfRangeException>(() => broker.CreateTopic("bad", 0));
    }
}
