namespace Mesh.Kafka.Tests;

public sealed class DeliveryReportTests
{
    [Fact]
    public void Produce_FactoryProducer_ReportsTheOutcomeWithoutCopyingTheMessageBack()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        using var producer = SharedClients.Factory(broker.BootstrapServers).CreateProducer("delivery-report-test");
        DeliveryReport<byte[], byte[]>? delivered = null;

        producer.Produce("delivery-topic", new Message<byte[], byte[]> { Key = [1], Value = [2], Headers = MeshHeaders.Create<Contracts.V1.Prediction>(null) }, r => delivered = r);
        Assert.Equal(0, producer.Flush(SharedClients.Patience));

        // What every mesh delivery handler reads: the error, the topic and the offset.
        Assert.NotNull(delivered);
        Assert.Equal(ErrorCode.NoError, delivered.Error.Code);
        Assert.Equal("delivery-topic", delivered.Topic);
        Assert.True(delivered.Offset.Value >= 0);
        // What none of them reads, and librdkafka's .NET client otherwise copies into new objects for every output.
        Assert.Null(delivered.Message.Headers);
        Assert.Null(delivered.Message.Value);
    }

    [Fact]
    public void CreateProducerConfig_DeliveryReportFieldsConfigured_KeepsTheSetting()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Kafka:Producer:DeliveryReportFields"] = "all" })
            .Build();
        var factory = new KafkaClientFactory(Options.Create(new KafkaOptions { BootstrapServers = "127.0.0.1:9" }), configuration, NullLoggerFactory.Instance);

        Assert.Equal("all", factory.CreateProducerConfig("c").DeliveryReportFields);
        Assert.Equal("none", SharedClients.Factory("127.0.0.1:9").CreateProducerConfig("c").DeliveryReportFields);
    }
}
