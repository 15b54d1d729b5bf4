namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Two metrics sinks in one consumer group over one real redis-server (<c>MetricsSink:JoinState=Redis</c>), one
/// SIGKILLed mid-stream and restarted under the same instance name: every pair is joined and counted exactly once in
/// the totals the sinks keep in Redis, read there with redis-cli.
/// </summary>
public sealed class SinkScaleOutTests(KafkaTestCluster kafka, ITestOutputHelper output) : IClassFixture<KafkaTestCluster>
{
    private const int Pairs = 20_000;
    private const int Chunks = 20;
    private const int Partitions = 6;
    private const char Separator = '\u001f';
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Sinks_OneKilledAndRestartedMidStream_EveryPairJoinedAndCountedOnceInRedis()
    {
        var predictions = KafkaTestCluster.UniqueTopic("sinks.predictions");
        var labels = KafkaTestCluster.UniqueTopic("sinks.labels");
        var deadLetter = KafkaTestCluster.UniqueTopic("sinks.dead-letter");
        await kafka.CreateTopicsAsync(Partitions, predictions, labels, deadLetter);
        using var redis = await RedisProcess.StartAsync(CancellationToken.None);
        var run = Guid.NewGuid().ToString("N")[..8];
        var prefix = $"e2e:{run}:join:";
        var tracking = Directory.CreateTempSubdirectory("mesh-sinks-").FullName;
        Task<ServiceProcess> SinkAsync(int n) => Services.StartBoundAsync($"metrics-sink {n}", "metrics-sink", "Mesh.MetricsSink", _ => new Dictionary<string, string>
        {
            ["Urls"] = LoopbackPorts.Url(0),
            ["Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["Kafka__Topics__Predictions"] = predictions,
            ["Kafka__Topics__Labels"] = labels,
            ["Kafka__Topics__DeadLetter"] = deadLetter,
            ["Kafka__StaticMembership__InstanceName"] = $"sink-{run}-{n}",
            ["MetricsSink__GroupId"] = "e2e-sinks-" + run,
            ["MetricsSink__TrackingDir"] = Path.Combine(tracking, n.ToString(CultureInfo.InvariantCulture)),
            ["MetricsSink__Redis"] = redis.Configuration,
            ["MetricsSink__JoinState"] = "Redis",
            ["MetricsSink__JoinKeyPrefix"] = prefix,
        });

        var sinks = new List<ServiceProcess> { await SinkAsync(0), await SinkAsync(1) };
        try
        {
            Assert.True(await ScaleOutMesh.HealthyAsync(sinks[0], s_patience), "sink 0 healthy");
            Assert.True(await ScaleOutMesh.HealthyAsync(sinks[1], s_patience), "sink 1 healthy");
            using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, LingerMs = 5 }).Build();
            for (var chunk = 0; chunk < Chunks; chunk++)
            {
                Produce(producer, predictions, labels, chunk);
                if (chunk == Chunks / 3)
                {
                    // Mid-stream, with pairs of this chunk still to join: a crash, then the same instance comes back.
                    Assert.True(await WaitAsync(() => Figure(redis, prefix, "g" + Separator + "j") > 0, s_patience), "joining before the kill");
                    var joinedAtKill = Figure(redis, prefix, "g" + Separator + "j");
                    sinks[0].Kill();
                    output.WriteLine($"sink 0 SIGKILLed with {joinedAtKill} of {Pairs} pairs joined");
                    Assert.True(joinedAtKill < Pairs, "killed with pairs still to join");
                    await sinks[0].DisposeAsync();
                    sinks[0] = await SinkAsync(0);
                }

                await Task.Delay(250);
            }

            producer.Flush(TimeSpan.FromSeconds(30));
            Assert.True(await WaitAsync(() => Figure(redis, prefix, "g" + Separator + "j") >= Pairs, s_patience), $"all joined: {Figure(redis, prefix, "g" + Separator + "j")}");
            // Anything counted twice late (a replay after the restart) would show after a few more commits.
            await Task.Delay(TimeSpan.FromSeconds(5));

            var figures = Figures(redis, prefix);
            output.WriteLine(string.Join(", ", figures.Select(f => $"{f.Key.Replace(Separator, '/')}={f.Value}")));
            Assert.Equal(Pairs, figures["g" + Separator + "n"]);
            Assert.Equal(Pairs, figures["g" + Separator + "l"]);
            Assert.Equal(Pairs, figures["g" + Separator + "j"]);
            var arms = figures.Where(f => f.Key.StartsWith("a" + Separator, StringComparison.Ordinal) && f.Key.EndsWith(Separator + "j", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, arms.Count);
            Assert.Equal(Pairs, arms.Sum(a => a.Value));
            Assert.All(sinks, s => Assert.False(s.HasExited, $"{s.Name} exited with {(s.HasExited ? s.ExitCode : 0)}"));
        }
        catch
        {
            foreach (var sink in sinks)
            {
                output.WriteLine($"===== {sink.Name} (exited: {sink.HasExited}) =====");
                output.WriteLine(sink.Output);
            }

            throw;
        }
        finally
        {
            foreach (var sink in sinks)
            {
                await sink.DisposeAsync();
            }

            Directory.Delete(tracking, recursive: true);
        }
    }

    private static void Produce(IProducer<byte[], byte[]> producer, string predictions, string labels, int chunk)
    {
        for (var n = chunk * (Pairs / Chunks); n < (chunk + 1) * (Pairs / Chunks); n++)
        {
            var key = Encoding.UTF8.GetBytes($"e{n % 500}");
            var arm = n % 2 == 0 ? "logreg" : "boosted";
            var prediction = new Prediction
            {
                RequestId = $"r{n}",
                EntityId = $"e{n % 500}",
                Experiment = "iris-ab",
                Arm = arm,
                ModelName = "iris-" + arm,
                ModelVersion = "1",
                Output = new PredictionOutput { Label = "setosa" },
                Latency = new Latency { EndToEndMs = 5 },
            };
            producer.Produce(predictions, new Message<byte[], byte[]> { Key = key, Value = prediction.ToByteArray() });
            var label = new Label { RequestId = $"r{n}", EntityId = $"e{n % 500}", Value = n % 4 == 0 ? "virginica" : "setosa" };
            producer.Produce(labels, new Message<byte[], byte[]> { Key = key, Value = label.ToByteArray() });
        }
    }

    private static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        return condition();
    }

    private static long Figure(RedisProcess redis, string prefix, string field) =>
        Figures(redis, prefix).TryGetValue(field, out var value) ? value : 0;

    // The sinks' persisted totals (one hash beside the join keys), read with redis-cli: nothing of the sink's own code.
    private static Dictionary<string, long> Figures(RedisProcess redis, string prefix)
    {
        var info = new ProcessStartInfo("redis-cli", ["-p", redis.Port.ToString(CultureInfo.InvariantCulture), "--raw", "HGETALL", prefix + Separator + "aggregates"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var cli = Process.Start(info)!;
        var lines = cli.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        cli.WaitForExit();
        var figures = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var n = 0; n + 1 < lines.Length; n += 2)
        {
            if (double.TryParse(lines[n + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                figures[lines[n]] = (long)Math.Round(value);
            }
        }

        return figures;
    }
}
