namespace Mesh.MetricsSink.Tests;

/// <summary>The running sink with its join state in a real redis-server, over the Kafka-protocol broker.</summary>
public sealed class RedisJoinConsumingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>, IAsyncLifetime
{
    private RedisProcess _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisProcess.StartAsync(CancellationToken.None);

    public Task DisposeAsync()
    {
        _redis.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Run_JoinStateRedis_JoinsEveryPairAndCommitsEveryOffsetOnceRedisDecided()
    {
        const int Count = 40;
        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var n = 0; n < Count; n++)
            {
                var key = System.Text.Encoding.UTF8.GetBytes($"e{n}");
                producer.Produce(topics.Predictions, new Message<byte[], byte[]> { Key = key, Value = Make.Prediction($"r{n}", predicted: "setosa").ToByteArray() });
                // Every fourth label disagrees: accuracy 30 / 40.
                producer.Produce(topics.Labels, new Message<byte[], byte[]> { Key = key, Value = Make.Label($"r{n}", n % 4 == 0 ? "virginica" : "setosa").ToByteArray() });
            }

            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var group = "sink-redis-" + Guid.NewGuid().ToString("N");
        var tracking = Path.Combine(Path.GetTempPath(), "sink-redis-it-" + Guid.NewGuid().ToString("N"));
        var settings = SinkOverKafka.Settings(cluster, topics, tracking, group);
        settings["MetricsSink:Redis"] = _redis.Configuration;
        settings["MetricsSink:JoinState"] = "Redis";
        settings["MetricsSink:JoinKeyPrefix"] = "it:" + group + ":";
        await using var app = MetricsSinkApp.Create([], settings);
        await app.StartAsync();
        try
        {
            var path = Path.Combine(tracking, SummaryFileWriter.FileName);
            SummaryDocument? summary = null;
            IReadOnlyList<(TopicPartition Partition, long Committed, long End)> positions = [];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (DateTime.UtcNow < deadline)
            {
                summary = File.Exists(path) ? SummaryJson.Deserialize(await File.ReadAllTextAsync(path)) : null;
                positions = SinkOverKafka.Positions(cluster, group, [topics.Predictions, topics.Labels]);
                if (summary is { Joined: Count } && positions.All(p => p.Committed == p.End))
                {
                    break;
                }

                await Task.Delay(200);
            }

            Assert.NotNull(summary);
            Assert.Equal((40L, 40L, 40L, 0L), (summary.Predictions, summary.Labels, summary.Joined, summary.DuplicatePredictions));
            var arm = Assert.Single(Assert.Single(summary.Experiments).Arms);
            Assert.Equal((30L, 0.75), (arm.Correct, arm.Accuracy));
            // Every record's offset was stored, after Redis decided it, and committed.
            Assert.Equal(2 * Count, positions.Sum(p => p.End));
            Assert.All(positions, p => Assert.True(p.Committed == p.End, $"{p.Partition}: committed {p.Committed}, end {p.End}"));
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(tracking, recursive: true);
        }
    }
}
