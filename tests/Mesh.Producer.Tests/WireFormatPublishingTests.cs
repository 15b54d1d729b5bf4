namespace Mesh.Producer.Tests;

/// <summary>What the producer writes with and without <c>Kafka:SchemaRegistry:Url</c>, against the stand-in registry.</summary>
public sealed class WireFormatPublishingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int Count = 12;

    [Fact]
    public async Task Run_SchemaRegistryConfigured_WritesEveryFeatureAndLabelFramedWithItsTopicsSchemaId()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var (features, labels) = await TopicsAsync();

        await RunAsync(features, labels, registry.Url);

        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        var featureSchema = await client.GetLatestSchemaAsync(features + "-value");
        var labelSchema = await client.GetLatestSchemaAsync(labels + "-value");
        Assert.NotEqual(featureSchema.Id, labelSchema.Id);
        foreach (var value in cluster.ReadAll(features, Count, TimeSpan.FromSeconds(30)).Select(r => r.Message.Value))
        {
            var record = FeatureRecord.Parser.ParseFrom(AssertFramed(value, featureSchema.Id));
            Assert.Equal(4, record.Values.Count);
        }

        var read = cluster.ReadAll(labels, Count, TimeSpan.FromSeconds(30));
        Assert.Equal(Count, read.Count);
        Assert.All(read, r => Assert.NotEmpty(Label.Parser.ParseFrom(AssertFramed(r.Message.Value, labelSchema.Id)).Value));
    }

    [Fact]
    public async Task Run_NoSchemaRegistry_WritesPlainProtobufValues()
    {
        var (features, labels) = await TopicsAsync();

        await RunAsync(features, labels, registryUrl: null);

        var values = cluster.ReadAll(features, Count, TimeSpan.FromSeconds(30)).Select(r => r.Message.Value).ToList();
        Assert.Equal(Count, values.Count);
        // A plain message starts with a field tag, never the wire format's magic byte 0.
        Assert.All(values, v => Assert.False(ConfluentWireFormat.IsFramed(v)));
        Assert.All(values, v => Assert.Equal(4, FeatureRecord.Parser.ParseFrom(v).Values.Count));
    }

    [Fact]
    public async Task PublishAsync_WithWireFormatWriter_RegistersTheTopicAndFramesTheRecord()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var topic = await cluster.CreateFreshTopicAsync(1, "features");
        var options = new SchemaRegistryOptions { Url = registry.Url, MaxRetries = 1 };
        using var client = new CachedSchemaRegistryClient(options.ToClientConfig());
        using (var publisher = FeaturePublisher.Create(cluster.BootstrapServers, topic, new WireFormatWriter(client, options)))
        {
            await publisher.PublishAsync(new FeatureRecord { RequestId = "order-1", EntityId = "customer-1", Values = { 1f, 2f } });
        }

        var schema = await client.GetLatestSchemaAsync(topic + "-value");
        var value = Assert.Single(cluster.ReadAll(topic, 1, TimeSpan.FromSeconds(30))).Message.Value;
        Assert.Equal("order-1", FeatureRecord.Parser.ParseFrom(AssertFramed(value, schema.Id)).RequestId);
    }

    [Fact]
    public async Task Start_SchemaRegistryDown_Exits78NamingTheUrlSettingBeforeWritingAnything()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();
        var (features, labels) = await TopicsAsync();

        var (exitCode, _, error) = await ServiceRun.UntilExitAsync("producer", "Mesh.Producer", new Dictionary<string, string>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topics:Features"] = features,
            ["Kafka:Topics:Labels"] = labels,
            ["Kafka:SchemaRegistry:Url"] = url,
            ["Kafka:SchemaRegistry:MaxRetries"] = "1",
            ["Producer:File"] = RepoPaths.IrisCsv,
            ["Producer:Count"] = "5",
            ["Producer:ProgressBar"] = "off",
        }, TimeSpan.FromSeconds(120));

        Assert.Equal(78, exitCode);
        Assert.Contains($"error: invalid configuration, the service did not start: Kafka:SchemaRegistry:Url: the schema registry at '{url}' did not answer", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n'), l => l.Contains("Kafka:SchemaRegistry:Url", StringComparison.Ordinal));
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "watermarks" }).Build();
        Assert.Equal(0, consumer.QueryWatermarkOffsets(new TopicPartition(features, 0), TimeSpan.FromSeconds(10)).High.Value);
    }

    // Magic byte 0, the schema id as 4 bytes big-endian, the index path [0] as the single byte 0; returns the message.
    private static byte[] AssertFramed(byte[] value, int schemaId)
    {
        Assert.Equal(ConfluentWireFormat.MagicByte, value[0]);
        Assert.Equal(schemaId, BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)));
        Assert.Equal(0, value[5]);
        return value[6..];
    }

    private async Task<(string Features, string Labels)> TopicsAsync()
    {
        var features = KafkaTestCluster.UniqueTopic("features");
        var labels = KafkaTestCluster.UniqueTopic("labels");
        await cluster.CreateTopicsAsync(1, features, labels);
        return (features, labels);
    }

    private async Task RunAsync(string features, string labels, string? registryUrl)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topics:Features"] = features,
            ["Kafka:Topics:Labels"] = labels,
            ["Kafka:SchemaRegistry:Url"] = registryUrl,
            ["Kafka:SchemaRegistry:MaxRetries"] = "1",
            ["Producer:File"] = RepoPaths.IrisCsv,
            ["Producer:Rate"] = "500",
            ["Producer:Count"] = Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Producer:LabelDelayMs"] = "50",
            ["Producer:Entities"] = "4",
            ["Producer:ProgressBar"] = "off",
        };
        await using var app = ProducerApp.Create([], settings);
        await app.StartAsync();
        var summary = await app.Services.GetRequiredService<PublishProgress>().Completion.WaitAsync(TimeSpan.FromSeconds(60));
        await app.StopAsync();
        Assert.True(summary.Succeeded, summary.ToString());
        Assert.Equal(Count, summary.LabelsAcked);
    }
}
