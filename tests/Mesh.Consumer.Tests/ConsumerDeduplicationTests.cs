namespace Mesh.Consumer.Tests;

/// <summary>A prediction the consumer gets twice (a replay, or the router's redelivery) is written once.</summary>
public sealed class ConsumerDeduplicationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private readonly MemoryLineSink _sink = new();
    private readonly OffsetTracker _offsets = new();

    [Fact]
    public void TryHandle_SamePredictionTwice_WritesOneLineAndReleasesBothOffsets()
    {
        var handler = Handler(new ManualTimeProvider());

        handler.TryHandle(Records.Consumed("p", 0, 0, Records.Prediction("a")), out _);
        handler.TryHandle(Records.Consumed("p", 0, 1, Records.Prediction("a")), out _);
        var released = handler.Flush();

        Assert.Equal(["a"], _sink.Flushed.Select(l => PredictionLineFormatter.Parse(l).RequestId));
        Assert.Equal(1, handler.Duplicates);
        Assert.Equal(new TopicPartitionOffset("p", 0, 2), Assert.Single(released));
    }

    [Fact]
    public void TryHandle_SameRequestIdForAnotherExperimentOrAShadow_WritesEach()
    {
        var handler = Handler(new ManualTimeProvider());
        var other = Records.Prediction("a");
        other.Experiment = "other";
        var shadow = Records.Prediction("a");
        shadow.Shadow = true;
        shadow.Arm = "candidate";
        var secondShadow = shadow.Clone();
        secondShadow.Arm = "candidate-2";

        long offset = 0;
        foreach (var prediction in new[] { Records.Prediction("a"), other, shadow, secondShadow, shadow })
        {
            handler.TryHandle(Records.Consumed("p", 0, offset++, prediction), out _);
        }

        handler.Flush();

        Assert.Equal(4, _sink.Flushed.Count);
        Assert.Equal(1, handler.Duplicates);
    }

    [Fact]
    public void TryHandle_DuplicateOlderThanTheWindow_IsWrittenAgain()
    {
        var time = new ManualTimeProvider();
        var handler = Handler(time, maxAge: TimeSpan.FromMinutes(10));

        handler.TryHandle(Records.Consumed("p", 0, 0, Records.Prediction("a")), out _);
        time.Advance(TimeSpan.FromMinutes(11));
        handler.TryHandle(Records.Consumed("p", 0, 1, Records.Prediction("a")), out _);
        handler.Flush();

        // The window says what it covers: past its age, a replay is written again (the sink still counts it once).
        Assert.Equal(2, _sink.Flushed.Count);
        Assert.Equal(0, handler.Duplicates);
    }

    [Fact]
    public void TryHandle_MoreRequestIdsThanTheWindowHolds_ForgetsTheOldest()
    {
        var handler = Handler(new ManualTimeProvider(), maxRequestIds: 2);

        long offset = 0;
        foreach (var id in new[] { "a", "b", "c", "c", "b", "a" })
        {
            handler.TryHandle(Records.Consumed("p", 0, offset++, Records.Prediction(id)), out _);
        }

        handler.Flush();

        Assert.Equal(["a", "b", "c", "a"], _sink.Flushed.Select(l => PredictionLineFormatter.Parse(l).RequestId));
        Assert.Equal(2, handler.Duplicates);
    }

    [Fact]
    public async Task Run_SamePredictionsProducedTwice_WritesOneLinePerPrediction()
    {
        const int Count = 10;
        var (predictions, deadLetters) = await cluster.CreateFreshTopicsAsync(1, "predictions", "dead-letter");
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            // Twice over, then one last new prediction: on one partition, its line means the copies were all read.
            foreach (var id in Enumerable.Range(0, Count).Concat(Enumerable.Range(0, Count)).Select(i => $"req-{i}").Append("last"))
            {
                producer.Produce(predictions, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = Records.Prediction(id).ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });
            }

            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var output = Path.Combine(Path.GetTempPath(), $"consumer-{Guid.NewGuid():N}", "predictions.jsonl");
        await using (var app = ConsumerTestApp.Create(cluster, predictions, deadLetters, output))
        {
            await app.StartAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!(File.Exists(output) && ReadShared(output).Any(l => l.Contains("\"last\"", StringComparison.Ordinal))))
            {
                Assert.True(DateTime.UtcNow < deadline, "the last prediction was never written");
                await Task.Delay(100);
            }

            await app.StopAsync();
        }

        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"req-{i}").Append("last").Order(), lines.Select(l => PredictionLineFormatter.Parse(l).RequestId).Order());
    }

    [Fact]
    public async Task Start_BadDeduplicationWindow_RefusesNamingTheSettings()
    {
        await using var app = ConsumerApp.Create([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Consumer:Deduplication:MaxRequestIds"] = "0",
            ["Consumer:Deduplication:MaxAgeMinutes"] = "-5",
        });

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Consumer:Deduplication:MaxRequestIds", error.Message, StringComparison.Ordinal);
        Assert.Contains("Consumer:Deduplication:MaxAgeMinutes", error.Message, StringComparison.Ordinal);
    }

    private PredictionRecordHandler Handler(TimeProvider time, int maxRequestIds = 100, TimeSpan maxAge = default) =>
        new(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets, deduplicator: new PredictionDeduplicator(maxRequestIds, maxAge, time));

    private static string[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
