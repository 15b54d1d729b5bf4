namespace Mesh.Router.Tests;

/// <summary>
/// Custom outcomes through the bandit, with the real parts: this router (Thompson sampling, state in a real
/// redis-server), the metrics sink as its own process reading the same experiment file (<c>reward: clicked</c>), and
/// Labels on the broker. Both arms are right on every label, so only the declared outcome tells them apart.
/// </summary>
public sealed class BanditOutcomeRewardTests(RedisServerFixture redis, KafkaTestCluster cluster) : IClassFixture<RedisServerFixture>, IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Bandit_ArmWhoseLabelsCarryTheHigherDeclaredReward_WinsTheTraffic()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        var experiment = "outcome-bandit-" + Guid.NewGuid().ToString("N")[..8];
        var spec = Specs.TwoArmBandit(experiment, modelHost.Endpoint, """
            outcomes:
              - name: clicked
                aggregate: rate
            reward: clicked
            """);
        var prefix = $"mesh:bandit:{Guid.NewGuid():N}:";
        await using var router = await RouterTestHost.StartAsync(cluster, spec, new Dictionary<string, string?>
        {
            ["Router:Bandit:Redis"] = redis.Configuration,
            ["Router:Bandit:KeyPrefix"] = prefix,
            ["Router:Bandit:RefreshMs"] = "100",
            ["Router:Bandit:Seed"] = "23",
        });
        var labels = await cluster.CreateFreshTopicAsync(2, "outcome-bandit.labels");
        var tracking = Directory.CreateTempSubdirectory("mesh-outcome-bandit-").FullName;
        await using var sink = await ServiceProcess.StartBoundAsync("metrics-sink",
            ServiceProcess.ServiceDll(TestRepository.Root, TestRepository.Configuration, "metrics-sink", "Mesh.MetricsSink"),
            _ => new Dictionary<string, string>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Kafka__BootstrapServers"] = cluster.BootstrapServers,
                ["Kafka__Topics__Predictions"] = router.Predictions,
                ["Kafka__Topics__ShadowPredictions"] = router.ShadowPredictions,
                ["Kafka__Topics__Labels"] = labels,
                ["Kafka__Topics__DeadLetter"] = router.DeadLetters,
                ["MetricsSink__GroupId"] = "outcome-bandit-" + Guid.NewGuid().ToString("N"),
                ["MetricsSink__TrackingDir"] = tracking,
                ["MetricsSink__FlushIntervalMs"] = "200",
                ["MetricsSink__Redis"] = redis.Configuration,
                ["MetricsSink__BanditKeyPrefix"] = prefix,
                ["MetricsSink__ExperimentFile"] = router.ExperimentFile,
            },
            s_patience);
        try
        {
            Assert.False(sink.HasExited, sink.Output);
            using var admin = router.CreateHttpClient();

            // The first 200 records, while the bandit knows nothing; each label is right for its arm's answer, and
            // clicked on arm b only.
            router.Produce(RouterTestHost.Records("explore", 200, 50));
            var explored = router.ReadPredictions(200, s_patience);
            Assert.Equal(200, explored.Count);
            Assert.Contains(explored, p => p.Arm == "a");
            Assert.Contains(explored, p => p.Arm == "b");
            using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
            {
                foreach (var prediction in explored)
                {
                    var label = new Label { RequestId = prediction.RequestId, EntityId = prediction.EntityId, Value = prediction.Output.Label };
                    label.Outcomes["clicked"] = prediction.Arm == "b" ? 1 : 0;
                    producer.Produce(labels, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(prediction.EntityId), Value = label.ToByteArray() });
                }

                producer.Flush(TimeSpan.FromSeconds(30));
            }

            // The sink writes the rewards to Redis; the router reads them at its next refresh.
            var deadline = DateTime.UtcNow + s_patience;
            long observations;
            do
            {
                await Task.Delay(200);
                using var json = JsonDocument.Parse(await admin.GetStringAsync($"/admin/experiments/{experiment}"));
                observations = json.RootElement.GetProperty("arms").EnumerateArray().Sum(a => long.Parse(a.GetProperty("observations").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            }
            while (observations < 200 && DateTime.UtcNow < deadline && !sink.HasExited);

            Assert.True(observations == 200, $"{observations} of 200 rewards reached the router:\n{sink.Output}");
            router.Produce(RouterTestHost.Records("exploit", 100, 50));
            var exploited = router.ReadPredictions(300, s_patience).Where(p => p.RequestId.StartsWith("exploit-", StringComparison.Ordinal)).ToList();
            Assert.Equal(100, exploited.Count);
            Assert.True(exploited.Count(p => p.Arm == "b") >= 90, $"{exploited.Count(p => p.Arm == "b")} of 100 to the arm whose labels were clicked");
        }
        finally
        {
            Directory.Delete(tracking, recursive: true);
        }
    }
}
