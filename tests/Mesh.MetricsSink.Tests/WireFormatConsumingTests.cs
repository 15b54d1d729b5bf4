namespace Mesh.MetricsSink.Tests;

/// <summary>Predictions and labels framed (Confluent wire format) and plain on the same topics, read against the stand-in registry.</summary>
public sealed class WireFormatConsumingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int Count = 10;
    private const int UnknownSchemaId = 4242;

    [Fact]
    public async Task Run_MixedFramedAndPlainValues_JoinsEveryPairAndDeadLettersAnUnknownSchemaIdNamingItAndTheSubject()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        var options = new SchemaRegistryOptions { Url = registry.Url, MaxRetries = 1 };
        using (var client = new CachedSchemaRegistryClient(options.ToClientConfig()))
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            var writer = new WireFormatWriter(client, options);
            for (var n = 0; n < Count; n++)
            {
                // Predictions framed when n is even, labels when n is odd: every pair joins a framed and a plain value
                // or two of a kind.
                var prediction = Make.Prediction($"r{n}");
                var label = Make.Label($"r{n}");
                Produce(producer, topics.Predictions, n % 2 == 0 ? writer.Encode(topics.Predictions, prediction) : prediction.ToByteArray());
                Produce(producer, topics.Labels, n % 2 == 1 || n == 0 ? writer.Encode(topics.Labels, label) : label.ToByteArray());
            }

            var header = new byte[ConfluentWireFormat.GetHeaderLength([0])];
            ConfluentWireFormat.WriteHeader(header, UnknownSchemaId, [0]);
            Produce(producer, topics.Predictions, [.. header, .. Make.Prediction("unknown-schema").ToByteArray()]);
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var tracking = Path.Combine(Path.GetTempPath(), "sink-wire-" + Guid.NewGuid().ToString("N"));
        var settings = SinkOverKafka.Settings(cluster, topics, tracking, "sink-test-" + Guid.NewGuid().ToString("N"));
        settings["Kafka:SchemaRegistry:Url"] = registry.Url;
        settings["Kafka:SchemaRegistry:MaxRetries"] = "1";
        await using var app = MetricsSinkApp.Create([], settings);
        await app.StartAsync();
        try
        {
            // With a registry configured the service writes its dead letters in the wire format too.
            var written = Assert.Single(cluster.ReadAll(topics.DeadLetter, 1, TimeSpan.FromSeconds(60))).Message.Value;
            Assert.Equal(0, written[0]);
            var letter = WireFormatReader.Unchecked.Decode<DeadLetter>(topics.DeadLetter, written);
            Assert.Equal(("metrics-sink", "decode"), (letter.Service, letter.ErrorClass));
            Assert.Contains($"schema id {UnknownSchemaId}", letter.ErrorMessage, StringComparison.Ordinal);
            Assert.Contains($"'{topics.Predictions}-value'", letter.ErrorMessage, StringComparison.Ordinal);

            var path = Path.Combine(tracking, SummaryFileWriter.FileName);
            SummaryDocument? summary = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline && summary is not { Joined: Count })
            {
                await Task.Delay(100);
                summary = File.Exists(path) ? SummaryJson.Deserialize(await File.ReadAllTextAsync(path)) : null;
            }

            Assert.NotNull(summary);
            Assert.Equal(((long)Count, (long)Count, (long)Count), (summary.Predictions, summary.Labels, summary.Joined));
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(tracking, recursive: true);
        }
    }

    [Fact]
    public async Task Start_SchemaRegistryDown_Exits78NamingTheUrlSetting()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();
        var tracking = Path.Combine(Path.GetTempPath(), "sink-down-" + Guid.NewGuid().ToString("N"));

        var (exitCode, _, error) = await ServiceRun.UntilExitAsync("metrics-sink", "Mesh.MetricsSink", new Dictionary<string, string>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:SchemaRegistry:Url"] = url,
            ["Kafka:SchemaRegistry:MaxRetries"] = "1",
            ["MetricsSink:TrackingDir"] = tracking,
        }, TimeSpan.FromSeconds(120));

        Assert.Equal(78, exitCode);
        Assert.Contains($"error: invalid configuration, the service did not start: Kafka:SchemaRegistry:Url: the schema registry at '{url}' did not answer", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
        if (Directory.Exists(tracking))
        {
            Directory.Delete(tracking, recursive: true);
        }
    }

    private static void Produce(IProducer<byte[], byte[]> producer, string topic, byte[] value) =>
        producer.Produce(topic, new Message<byte[], byte[]> { Key = [], Value = value });
}
