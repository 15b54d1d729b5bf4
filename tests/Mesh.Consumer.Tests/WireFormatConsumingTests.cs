namespace Mesh.Consumer.Tests;

/// <summary>A predictions topic with framed (Confluent wire format) and plain values, read against the stand-in registry.</summary>
public sealed class WireFormatConsumingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int UnknownSchemaId = 4242;

    [Fact]
    public async Task Run_MixedFramedAndPlainValues_WritesEveryPredictionAndDeadLettersAnUnknownSchemaIdNamingItAndTheSubject()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var predictions = KafkaTestCluster.UniqueTopic("predictions");
        var deadLetters = KafkaTestCluster.UniqueTopic("dead-letter");
        await cluster.CreateTopicsAsync(1, predictions, deadLetters);
        var options = new SchemaRegistryOptions { Url = registry.Url, MaxRetries = 1 };
        using (var client = new CachedSchemaRegistryClient(options.ToClientConfig()))
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            var writer = new WireFormatWriter(client, options);
            for (var i = 0; i < 20; i++)
            {
                // Even records framed, odd ones plain: a topic in the middle of its migration.
                var prediction = Records.Prediction($"req-{i}");
                var value = i % 2 == 0 ? writer.Encode(predictions, prediction) : prediction.ToByteArray();
                producer.Produce(predictions, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = value, Headers = MeshHeaders.Create<Prediction>(null) });
            }

            producer.Produce(predictions, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = Framed(UnknownSchemaId, Records.Prediction("unknown-schema")), Headers = MeshHeaders.Create<Prediction>(null) });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var output = Path.Combine(Path.GetTempPath(), $"consumer-wire-{Guid.NewGuid():N}", "predictions.jsonl");
        await using (var app = ConsumerTestApp.Create(cluster, predictions, deadLetters, output, new Dictionary<string, string?>
        {
            ["Kafka:SchemaRegistry:Url"] = registry.Url,
            ["Kafka:SchemaRegistry:MaxRetries"] = "1",
        }))
        {
            await app.StartAsync();
            // With a registry configured the service writes its dead letters in the wire format too.
            var written = Assert.Single(cluster.ReadAll(deadLetters, 1, TimeSpan.FromSeconds(60))).Message.Value;
            Assert.Equal(0, written[0]);
            var letter = WireFormatReader.Unchecked.Decode<DeadLetter>(deadLetters, written);
            Assert.Equal("decode", letter.ErrorClass);
            Assert.Contains($"schema id {UnknownSchemaId}", letter.ErrorMessage, StringComparison.Ordinal);
            Assert.Contains($"'{predictions}-value'", letter.ErrorMessage, StringComparison.Ordinal);
            Assert.Equal(20, letter.Offset);
            await WaitForLinesAsync(output, 20);
            await app.StopAsync();
        }

        var ids = ReadLines(output).Select(l => PredictionLineFormatter.Parse(l).RequestId).ToList();
        Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"req-{i}").Order(), ids.Order());
    }

    [Fact]
    public void TryHandle_FramedValueWithFieldsFromANewerProto_KeepsThemWithoutTheHeader()
    {
        var lines = new MemoryLineSink();
        var handler = new PredictionRecordHandler(new LinePredictionSink(lines, PredictionLineFormat.Json), new OffsetTracker());
        var newer = NewerField();
        var value = Framed(7, Records.Prediction("r1")).Concat(newer).ToArray();

        Assert.True(handler.TryHandle(Records.Consumed("p", 0, 0, value), out var error), error);
        handler.Flush();

        var line = Assert.Single(lines.Flushed);
        using var json = JsonDocument.Parse(line);
        Assert.Equal(newer, Convert.FromBase64String(json.RootElement.GetProperty(PredictionLineFormatter.UnknownFieldsName).GetString()!));
        Assert.Equal("r1", PredictionLineFormatter.Parse(line).RequestId);
    }

    [Fact]
    public async Task Start_SchemaRegistryDown_Exits78NamingTheUrlSetting()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();

        var (exitCode, _, error) = await ServiceRun.UntilExitAsync("consumer", "Mesh.Consumer", new Dictionary<string, string>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:SchemaRegistry:Url"] = url,
            ["Kafka:SchemaRegistry:MaxRetries"] = "1",
            ["Consumer:Output"] = Path.Combine(Path.GetTempPath(), $"consumer-down-{Guid.NewGuid():N}.jsonl"),
        }, TimeSpan.FromSeconds(120));

        Assert.Equal(78, exitCode);
        Assert.Contains($"error: invalid configuration, the service did not start: Kafka:SchemaRegistry:Url: the schema registry at '{url}' did not answer", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    // A value in the wire format under a schema id, index path [0].
    private static byte[] Framed(int schemaId, IMessage message)
    {
        var header = new byte[ConfluentWireFormat.GetHeaderLength([0])];
        ConfluentWireFormat.WriteHeader(header, schemaId, [0]);
        return [.. header, .. message.ToByteArray()];
    }

    // Field 99, which this build's Prediction does not have.
    private static byte[] NewerField()
    {
        using var bytes = new MemoryStream();
        var output = new CodedOutputStream(bytes);
        output.WriteTag(99, WireFormat.WireType.LengthDelimited);
        output.WriteString("tomorrow's field");
        output.Flush();
        return bytes.ToArray();
    }

    private static async Task WaitForLinesAsync(string path, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !(File.Exists(path) && ReadLines(path).Count >= expected))
        {
            await Task.Delay(100);
        }
    }

    private static List<string> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }
}
