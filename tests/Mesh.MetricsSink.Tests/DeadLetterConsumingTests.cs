namespace Mesh.MetricsSink.Tests;

/// <summary>The running sink reads the dead-letter topic and gives each arm its dead-letter rate.</summary>
public sealed class DeadLetterConsumingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_RoutersDeadLettersBesidePredictions_ArmRateInSummaryOtherServicesIgnored()
    {
        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        // Arm logreg: 9 predictions and 1 of the router's dead letters → 1 / (9 + 1) = 0.1. Arm boosted: 10 and none.
        // The consumer's dead letter is about its own output, not about a record an arm owed: not counted.
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var n = 0; n < 19; n++)
            {
                var prediction = Make.Prediction($"r{n}", arm: n < 9 ? "logreg" : "boosted");
                prediction.Context["mesh.strategy"] = "ab";
                prediction.Context["mesh.weight"] = "50";
                producer.Produce(topics.Predictions, new Message<byte[], byte[]> { Key = [], Value = prediction.ToByteArray() });
            }

            DeadLetter Letter(string service, string experiment, string arm) =>
                new() { Service = service, Experiment = experiment, Arm = arm, SourceTopic = topics.Features, ErrorClass = "inference" };
            producer.Produce(topics.DeadLetter, new Message<byte[], byte[]> { Key = [], Value = Letter("router", "iris-ab", "logreg").ToByteArray() });
            producer.Produce(topics.DeadLetter, new Message<byte[], byte[]> { Key = [], Value = Letter("consumer", "iris-ab", "boosted").ToByteArray() });
            producer.Produce(topics.DeadLetter, new Message<byte[], byte[]> { Key = [], Value = Letter("router", "", "").ToByteArray() });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var tracking = Path.Combine(Path.GetTempPath(), "sink-dl-it-" + Guid.NewGuid().ToString("N"));
        await using var app = MetricsSinkApp.Create([], SinkOverKafka.Settings(cluster, topics, tracking, "sink-test-" + Guid.NewGuid().ToString("N")));
        await app.StartAsync();
        try
        {
            var path = Path.Combine(tracking, SummaryFileWriter.FileName);
            SummaryDocument? summary = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                summary = File.Exists(path) ? SummaryJson.Deserialize(await File.ReadAllTextAsync(path)) : null;
                if (summary is { Predictions: 19, UnattributedDeadLetters.WithoutExperiment: 1 } &&
                    summary.Experiments.SelectMany(e => e.Arms).Sum(a => a.DeadLetters) >= 1)
                {
                    break;
                }

                await Task.Delay(100);
            }

            Assert.NotNull(summary);
            var arms = Assert.Single(summary.Experiments).Arms.ToDictionary(a => a.Arm);
            Assert.Equal((9L, 1L, 0.1), (arms["logreg"].Predictions, arms["logreg"].DeadLetters, arms["logreg"].DeadLetterRate));
            Assert.Equal((10L, 0L, 0.0), (arms["boosted"].Predictions, arms["boosted"].DeadLetters, arms["boosted"].DeadLetterRate));
            Assert.Equal(1, summary.UnattributedDeadLetters!.WithoutExperiment);
            Assert.Empty(summary.UnattributedDeadLetters.ByExperiment);
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(tracking, recursive: true);
        }
    }
}
