namespace Mesh.Consumer.Tests;

public sealed class ConsumerIntegrationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_PredictionsAndOneBadRecord_WritesEveryLineAndDeadLettersTheBadOne()
    {
        const int Count = 40;
        var (predictions, deadLetters) = await cluster.CreateFreshTopicsAsync(2, "predictions", "dead-letter");
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < Count; i++)
            {
                var prediction = Records.Prediction($"req-{i}");
                producer.Produce(predictions, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = prediction.ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });
            }

            producer.Produce(predictions, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = [0xFF, 0x01, 0xFF] });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var output = Path.Combine(Path.GetTempPath(), $"consumer-{Guid.NewGuid():N}", "predictions.jsonl");
        await using (var app = ConsumerTestApp.Create(cluster, predictions, deadLetters, output))
        {
            await app.StartAsync();
            var dead = cluster.ReadAll(deadLetters, 1, TimeSpan.FromSeconds(60));
            var letter = DeadLetter.Parser.ParseFrom(Assert.Single(dead).Message.Value);
            Assert.Equal("decode", letter.ErrorClass);
            Assert.Equal(predictions, letter.SourceTopic);
            Assert.Equal("consumer", letter.Service);
            await WaitForLinesAsync(output, Count, TimeSpan.FromSeconds(60));
            await app.StopAsync();
        }

        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal(Count, lines.Length);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"req-{i}").Order(), lines.Select(l => PredictionLineFormatter.Parse(l).RequestId).Order());
    }

    [Fact]
    public async Task Run_BothTopicsFilteredToCsvRollingFiles_WritesOnlyTheArmAndResumesAfterRestart()
    {
        var (predictions, shadow, deadLetters) = await cluster.CreateFreshTopicsAsync(2, "predictions", "shadow", "dead-letter");
        var output = Path.Combine(Path.GetTempPath(), $"consumer-{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topics:Predictions"] = predictions,
            ["Kafka:Topics:ShadowPredictions"] = shadow,
            ["Kafka:Topics:DeadLetter"] = deadLetters,
            ["Consumer:Output"] = Path.Combine(output, "preds.csv"),
            ["Consumer:Format"] = "csv",
            ["Consumer:Source"] = "both",
            ["Consumer:Arm"] = "challenger,boosted",
            ["Consumer:RollMaxBytes"] = "4000",
            ["Consumer:GroupId"] = "consumer-test-" + Guid.NewGuid().ToString("N"),
            // The embedded broker holds a departed member's partitions until its session times out (45 s by default).
            ["Kafka:Consumer:SessionTimeoutMs"] = "6000",
        };

        // Each round: 10 primary predictions (half boosted) and 10 shadow ones (arm challenger).
        ProduceRound(predictions, shadow, 0);
        await RunUntilAsync(settings, output, 15);
        ProduceRound(predictions, shadow, 1);
        await RunUntilAsync(settings, output, 30);

        var rows = ReadCsvRows(output);
        Directory.Delete(output, recursive: true);
        Assert.Equal(30, rows.Count);
        Assert.Equal(30, rows.Select(r => r[0] + "/" + r[3]).Distinct().Count());
        Assert.Equal(10, rows.Count(r => r[3] == "boosted"));
        Assert.Equal(20, rows.Count(r => r[3] == "challenger" && r[6] == "true"));
    }

    private void ProduceRound(string predictions, string shadow, int round)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        for (var i = 0; i < 10; i++)
        {
            var primary = Records.Prediction($"r{round}-{i}");
            primary.Arm = i % 2 == 0 ? "boosted" : "logreg";
            var copy = Records.Prediction($"r{round}-{i}");
            copy.Arm = "challenger";
            copy.Shadow = true;
            producer.Produce(predictions, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = primary.ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });
            producer.Produce(shadow, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = copy.ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });
        }

        producer.Flush(TimeSpan.FromSeconds(10));
    }

    private static async Task RunUntilAsync(Dictionary<string, string?> settings, string output, int rows)
    {
        await using var app = ConsumerApp.Create([], settings);
        await app.StartAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && (!Directory.Exists(output) || ReadCsvRows(output).Count < rows))
        {
            await Task.Delay(100);
        }

        await app.StopAsync();
    }

    private static List<string[]> ReadCsvRows(string directory) =>
        Directory.GetFiles(directory, "preds-*.csv")
            .SelectMany(f =>
            {
                using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                var lines = new List<string>();
                while (reader.ReadLine() is { } line)
                {
                    lines.Add(line);
                }

                return lines.Where(l => !l.StartsWith("request_id,", StringComparison.Ordinal));
            })
            .Select(l => l.Split(','))
            .ToList();

    [Fact]
    public async Task Start_UnknownFormat_RefusesNamingTheSetting()
    {
        await using var app = ConsumerApp.Create([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Consumer:Format"] = "xml",
            ["Consumer:Source"] = "everything",
        });

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Consumer:Format 'xml'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Consumer:Source 'everything'", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitForLinesAsync(string path, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && CountLines(path) >= expected)
            {
                return;
            }

            await Task.Delay(100);
        }
    }

    private static int CountLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var count = 0;
        while (reader.ReadLine() is not null)
        {
            count++;
        }

        return count;
    }
}
