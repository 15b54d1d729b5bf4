namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Outcome state that survives a kill (<c>MetricsSink:JoinState=Redis</c>): the counts and per-arm totals are persisted
/// with the join decisions, before the offsets, and read back at start. A real redis-server and the Kafka-protocol broker.
/// </summary>
public sealed class DurableOutcomeTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>, IAsyncLifetime
{
    private readonly string _prefix = "test:durable:" + Guid.NewGuid().ToString("N")[..8] + ":";
    private readonly List<ConnectionMultiplexer> _connections = [];
    private RedisProcess _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisProcess.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        _redis.Dispose();
    }

    [Fact]
    public async Task StartAsync_RestartedSinkReplaysUncommittedRecords_CountsEveryPairOnce()
    {
        var time = new ManualTimeProvider();
        var (a, stateA) = await SinkAsync(time);
        for (var n = 0; n < 150; n++)
        {
            a.AddPrediction(Make.Prediction($"r{n}", predicted: "setosa", latencyMs: 4, fallback: n % 10 == 0));
            a.AddLabel(Make.Label($"r{n}", n % 3 == 0 ? "virginica" : "setosa"));
        }

        await stateA.FlushAsync();
        // A dies here; its last committed offsets were at record 100, so the restarted sink reads 100..199 again.
        var (b, stateB) = await SinkAsync(time);
        await stateB.StartAsync(CancellationToken.None);
        for (var n = 100; n < 200; n++)
        {
            b.AddPrediction(Make.Prediction($"r{n}", predicted: "setosa", latencyMs: 4, fallback: n % 10 == 0));
            b.AddLabel(Make.Label($"r{n}", n % 3 == 0 ? "virginica" : "setosa"));
        }

        await stateB.StopAsync(CancellationToken.None);

        var summary = b.Snapshot();
        Assert.Equal((200L, 200L, 200L, 0L, 0L), (summary.Predictions, summary.Labels, summary.Joined, summary.PendingPredictions, summary.PendingLabels));
        var arm = Assert.Single(Assert.Single(summary.Experiments).Arms);
        Assert.Equal((200L, 200L, 133L, 20L), (arm.Predictions, arm.Joined, arm.Correct, arm.Fallbacks));
        Assert.Equal(("iris-logreg", "1"), (arm.Model, arm.Version));
        Assert.InRange(arm.LatencyP50Ms, 3.9, 4.1);
    }

    [Fact]
    public async Task Run_KilledMidStreamAndRestartedOnTheSameRedis_SummaryCountsEveryPairOnce()
    {
        const int Count = 20_000;
        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 5 }).Build())
        {
            for (var n = 0; n < Count; n++)
            {
                var key = System.Text.Encoding.UTF8.GetBytes($"e{n}");
                producer.Produce(topics.Predictions, new Message<byte[], byte[]> { Key = key, Value = Make.Prediction($"r{n}").ToByteArray() });
                // Every fourth label disagrees.
                producer.Produce(topics.Labels, new Message<byte[], byte[]> { Key = key, Value = Make.Label($"r{n}", n % 4 == 0 ? "virginica" : "setosa").ToByteArray() });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var group = "sink-durable-" + Guid.NewGuid().ToString("N");
        var first = Path.Combine(Path.GetTempPath(), "sink-durable-a-" + Guid.NewGuid().ToString("N"));
        var second = Path.Combine(Path.GetTempPath(), "sink-durable-b-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var killed = StartSink(topics, group, first))
            {
                // Killed as soon as it has counted something: mid-stream, with offsets and state not yet flushed.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
                while (DateTime.UtcNow < deadline && !killed.HasExited && (ReadSummary(first)?.Joined ?? 0) == 0)
                {
                    await Task.Delay(50);
                }

                Assert.False(killed.HasExited, "the first sink exited by itself");
                killed.Kill(entireProcessTree: true);
                await killed.WaitForExitAsync();
            }

            using var restarted = StartSink(topics, group, second);
            try
            {
                SummaryDocument? summary = null;
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
                while (DateTime.UtcNow < deadline && !restarted.HasExited)
                {
                    summary = ReadSummary(second);
                    if (summary is { Joined: >= Count } && SinkOverKafka.Positions(cluster, group, [topics.Predictions, topics.Labels]).All(p => p.Committed == p.End))
                    {
                        break;
                    }

                    await Task.Delay(200);
                }

                Assert.NotNull(summary);
                Assert.Equal(((long)Count, (long)Count, (long)Count), (summary.Predictions, summary.Labels, summary.Joined));
                var arm = Assert.Single(Assert.Single(summary.Experiments).Arms);
                Assert.Equal(((long)Count, (long)Count, Count * 3L / 4), (arm.Predictions, arm.Joined, arm.Correct));
            }
            finally
            {
                restarted.Kill(entireProcessTree: true);
                await restarted.WaitForExitAsync();
            }
        }
        finally
        {
            foreach (var dir in new[] { first, second }.Where(Directory.Exists))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    // The sink as its own process, so that it can be killed: the apphost the test project's build copies beside it.
    private Process StartSink(MeshTopics topics, string group, string tracking)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Mesh.MetricsSink"))
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var settings = SinkOverKafka.Settings(cluster, topics, tracking, group);
        settings["MetricsSink:Redis"] = _redis.Configuration;
        settings["MetricsSink:JoinState"] = "Redis";
        settings["MetricsSink:JoinKeyPrefix"] = _prefix;
        // The killed member's partitions come free after its session, not librdkafka's default 45 s.
        settings["Kafka:Consumer:SessionTimeoutMs"] = "6000";
        settings["Kafka:Consumer:HeartbeatIntervalMs"] = "1000";
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("the metrics sink did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static SummaryDocument? ReadSummary(string tracking)
    {
        var path = Path.Combine(tracking, SummaryFileWriter.FileName);
        try
        {
            return File.Exists(path) ? SummaryJson.Deserialize(File.ReadAllText(path)) : null;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            // Read while being replaced: the next poll reads it whole.
            return null;
        }
    }

    private async Task<(PredictionLabelJoiner Joiner, RedisJoinState State)> SinkAsync(TimeProvider time)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        _connections.Add(connection);
        var options = new MetricsSinkOptions { JoinState = "Redis", JoinKeyPrefix = _prefix };
        var queue = new SharedJoinQueue(() => connection.IsConnected, 10_000);
        var joiner = new PredictionLabelJoiner(time, TimeSpan.FromSeconds(600), 10_000, JoinBy.RequestId, queue);
        return (joiner, new RedisJoinState(queue, joiner, connection, Microsoft.Extensions.Options.Options.Create(options), NullLogger<RedisJoinState>.Instance));
    }
}
