namespace Mesh.MetricsSink.Tests;

public sealed class MetricsSinkIntegrationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Run_PredictionsLabelsDuplicatesAndGarbage_WritesExpectedSummaryAndOneRunPerArm(bool withMlflow)
    {
        await using var mlflow = withMlflow ? await FakeMlflowTrackingServer.StartAsync() : null;
        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        // 40 requests, each on arm logreg (even) or boosted (odd), predicted right unless n % 10 == 0;
        // a shadow on every request; every label; 5 redelivered predictions; one undecodable label record.
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var n = 0; n < 40; n++)
            {
                var arm = n % 2 == 0 ? "logreg" : "boosted";
                var prediction = Make.Prediction($"r{n}", arm: arm, predicted: n % 10 == 0 ? "virginica" : "setosa", latencyMs: n + 1);
                Produce(producer, topics.Predictions, prediction);
                if (n < 5)
                {
                    Produce(producer, topics.Predictions, prediction);
                }

                Produce(producer, topics.ShadowPredictions, Make.Prediction($"r{n}", arm: "challenger", predicted: "setosa", shadow: true));
                Produce(producer, topics.Labels, Make.Label($"r{n}", "setosa"));
            }

            producer.Produce(topics.Labels, new Message<byte[], byte[]> { Key = [], Value = [0xFF, 0x00, 0xFF] });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var tracking = Path.Combine(Path.GetTempPath(), "sink-it-" + Guid.NewGuid().ToString("N"));
        var settings = SinkOverKafka.Settings(cluster, topics, tracking, "sink-test-" + Guid.NewGuid().ToString("N"));
        settings["MLFLOW_TRACKING_URI"] = mlflow?.Uri.ToString();
        await using var app = MetricsSinkApp.Create([], settings);
        await app.StartAsync();

        var summary = await WaitForSummaryAsync(Path.Combine(tracking, SummaryFileWriter.FileName), s => s.Joined >= 80 && s.DuplicatePredictions >= 5, TimeSpan.FromSeconds(60));
        var dead = cluster.ReadAll(topics.DeadLetter, 1, TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var served = SummaryJson.Deserialize(await http.GetStringAsync("/api/summary"));
        await app.StopAsync();

        Assert.NotNull(summary);
        Assert.Equal(80, summary.Predictions);
        Assert.Equal(40, summary.Labels);
        Assert.Equal(80, summary.Joined);
        Assert.Equal(5, summary.DuplicatePredictions);
        Assert.Equal(0, summary.PendingPredictions);
        Assert.Equal(0, summary.PendingLabels);
        var arms = Assert.Single(summary.Experiments).Arms.ToDictionary(a => a.Arm);
        Assert.Equal(20, arms["logreg"].Predictions);
        Assert.Equal(20, arms["logreg"].Joined);
        Assert.Equal(16, arms["logreg"].Correct);
        Assert.Equal(0.8, arms["logreg"].Accuracy);
        Assert.Equal(1.0, arms["boosted"].Accuracy);
        Assert.True(arms["challenger"].Shadow);
        Assert.Equal(40, arms["challenger"].Joined);
        Assert.Equal(19, arms["logreg"].LatencyP50Ms, tolerance: 0.1);
        Assert.True(File.Exists(Path.Combine(tracking, "README.txt")));
        Assert.Equal("decode", DeadLetter.Parser.ParseFrom(Assert.Single(dead).Message.Value).ErrorClass);
        Assert.NotNull(served);
        Assert.Equal(80, served.Joined);
        // One run per experiment arm, their windows adding up: in MLflow when MLFLOW_TRACKING_URI is set, else in the folder.
        IMlflowTracking store = mlflow is null
            ? new LocalTrackingStore(tracking)
            : new MlflowTrackingClient(new MlflowClient(new HttpClient(), new MlflowClientOptions { TrackingUri = mlflow.Uri }));
        Assert.Equal(withMlflow, !Directory.Exists(Path.Combine(tracking, "mlruns")));
        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var runs = (await store.SearchRunsAsync([experiment], null, 100)).Runs.ToDictionary(r => r.Tag("mesh.arm")!);
        Assert.Equal(["boosted", "challenger", "logreg"], runs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(20, (await store.GetMetricHistoryAsync(runs["logreg"].Info.RunId, "joined")).Metrics.Sum(m => m.Value));
        Assert.Equal(40, (await store.GetMetricHistoryAsync(runs["challenger"].Info.RunId, "joined")).Metrics.Sum(m => m.Value));
        Assert.Equal("true", runs["challenger"].Tag("mesh.shadow"));
        Directory.Delete(tracking, recursive: true);
    }

    [Theory]
    [InlineData("MetricsSink:Redis", "no-such-option=1", "MetricsSink:Redis")]
    [InlineData("MLFLOW_TRACKING_URI", "ftp://mlflow", "MLFLOW_TRACKING_URI")]
    [InlineData("MetricsSink:WindowSeconds", "0", "MetricsSink:WindowSeconds")]
    [InlineData("MetricsSink:VerdictAlpha", "0.9", "MetricsSink:VerdictAlpha")]
    [InlineData("MetricsSink:Drift:Alpha", "2", "MetricsSink:Drift:Alpha")]
    [InlineData("MetricsSink:Drift:ReferenceRecords", "5", "MetricsSink:Drift:ReferenceRecords")]
    [InlineData("MetricsSink:Drift:Features:petal_length", "-1", "MetricsSink:Drift:Features")]
    [InlineData("MetricsSink:AlertsTopic", "", "MetricsSink:AlertsTopic")]
    public async Task Start_BadSetting_RefusesNamingIt(string key, string value, string named)
    {
        var tracking = Path.Combine(Path.GetTempPath(), "sink-bad-" + Guid.NewGuid().ToString("N"));
        await using var app = MetricsSinkApp.Create([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["MetricsSink:TrackingDir"] = tracking,
            [key] = value,
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(named, string.Join(" ", error.Failures), StringComparison.Ordinal);
    }

    private static void Produce<T>(IProducer<byte[], byte[]> producer, string topic, T message)
        where T : IMessage<T>, new() =>
        producer.Produce(topic, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = message.ToByteArray(), Headers = MeshHeaders.Create<T>(null) });

    private static async Task<SummaryDocument?> WaitForSummaryAsync(string path, Func<SummaryDocument, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        SummaryDocument? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path))
            {
                last = SummaryJson.Deserialize(await File.ReadAllTextAsync(path));
                if (last is not null && done(last))
                {
                    return last;
                }
            }

            await Task.Delay(100);
        }

        return last;
    }
}
