namespace Mesh.MetricsSink.Tests;

/// <summary>
/// A dead letter Kafka never acknowledges, on the embedded broker: every request to it takes longer than the
/// producer's message timeout. Its own broker (class fixture): the delay would slow the other tests.
/// </summary>
public sealed class DeadLetterFailureTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_DeadLetterNeverAcknowledged_RetriesThenStopsTheProcessNonZero()
    {
        if (cluster.Embedded is not { } broker)
        {
            // Delaying a real cluster's broker is not ours to do.
            return;
        }

        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        await producer.ProduceAsync(topics.Predictions, new Message<byte[], byte[]> { Key = [], Value = Make.Prediction("first").ToByteArray() });
        var tracking = Path.Combine(Path.GetTempPath(), "sink-dl-fail-" + Guid.NewGuid().ToString("N"));
        var settings = SinkOverKafka.Settings(cluster, topics, tracking, "sink-dl-fail-" + Guid.NewGuid().ToString("N"));
        settings["Kafka:Producer:MessageTimeoutMs"] = "1000";
        settings["Kafka:Producer:LingerMs"] = "0";
        await using var app = MetricsSinkApp.Create([], settings);
        try
        {
            await UndeliverableDeadLetter.AssertStopsTheServiceAsync(broker, app, "sink",
                async () =>
                {
                    // The sink is assigned and reading once it counted the first prediction.
                    var path = Path.Combine(tracking, SummaryFileWriter.FileName);
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                    while (DateTime.UtcNow < deadline && (File.Exists(path) ? SummaryJson.Deserialize(await File.ReadAllTextAsync(path))?.Predictions : 0) != 1)
                    {
                        await Task.Delay(100);
                    }
                },
                () => producer.ProduceAsync(topics.Predictions, new Message<byte[], byte[]> { Key = [], Value = [0xFF, 0x01, 0xFF] }));
        }
        finally
        {
            Directory.Delete(tracking, recursive: true);
        }
    }
}
