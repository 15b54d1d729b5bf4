using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Consumer.Output;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Testing;

namespace Mesh.Consumer.Tests;

public sealed class ConsumerIntegrationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_PredictionsAndOneBadRecord_WritesEveryLineAndDeadLettersTheBadOne()
    {
        const int Count = 40;
        var predictions = KafkaTestCluster.UniqueTopic("predictions");
        var deadLetters = KafkaTestCluster.UniqueTopic("dead-letter");
        await cluster.CreateTopicsAsync(2, predictions, deadLetters);
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
        await using (var app = ConsumerExtensions.CreateApp(new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topics:Predictions"] = predictions,
            ["Kafka:Topics:DeadLetter"] = deadLetters,
            ["Consumer:Output"] = output,
            ["Consumer:GroupId"] = "consumer-test-" + Guid.NewGuid().ToString("N"),
        }))
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
