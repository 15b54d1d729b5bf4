namespace Mesh.Consumer.Tests;

/// <summary>
/// A dead letter Kafka never acknowledges, on the embedded broker: every request to it takes longer than the
/// producer's message timeout, so each attempt times out. Its own broker (class fixture): the delay would slow others.
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

        var (predictions, deadLetters) = await cluster.CreateFreshTopicsAsync(1, "predictions", "dead-letter");
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        await producer.ProduceAsync(predictions, new Message<byte[], byte[]> { Key = [], Value = Records.Prediction("first").ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });

        var output = Path.Combine(Path.GetTempPath(), $"consumer-dl-{Guid.NewGuid():N}", "predictions.jsonl");
        await using var app = ConsumerTestApp.Create(cluster, predictions, deadLetters, output, new Dictionary<string, string?>
        {
            ["Kafka:Producer:MessageTimeoutMs"] = "1000",
            ["Kafka:Producer:LingerMs"] = "0",
        });
        await UndeliverableDeadLetter.AssertStopsTheServiceAsync(broker, app, "consumer",
            async () =>
            {
                // The consumer is assigned and reading once the first line is written.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (DateTime.UtcNow < deadline && !(File.Exists(output) && new FileInfo(output).Length > 0))
                {
                    await Task.Delay(100);
                }

                Assert.True(File.Exists(output), "the consumer never wrote the first prediction");
            },
            () => producer.ProduceAsync(predictions, new Message<byte[], byte[]> { Key = [], Value = [0xFF, 0x01, 0xFF] }));
    }
}
