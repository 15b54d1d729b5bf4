namespace Mesh.MetricsSink.Tests;

/// <summary>
/// The whole sink over the Kafka-protocol broker with <c>MetricsSink:ExperimentFile</c> set: Labels carrying outcomes
/// on the wire, the arm's figures in <c>/api/summary</c> and, once a window closes, on the Prometheus scrape.
/// </summary>
public sealed class OutcomesOverKafkaTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_LabelsWithOutcomesOnTheLabelsTopic_SummaryAndMetricsEndpointShowTheArmsFigures()
    {
        var topics = await SinkOverKafka.CreateTopicsAsync(cluster);
        var tracking = Path.Combine(Path.GetTempPath(), "sink-outcomes-" + Guid.NewGuid().ToString("N"));
        var spec = Path.Combine(Path.GetTempPath(), "sink-outcomes-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(spec, Outcomes.Spec);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            // logreg: revenue 10, 20, 30 and one label without it; boosted: revenue 4 on both.
            double?[] revenue = [10, 20, 30, null];
            for (var n = 0; n < revenue.Length; n++)
            {
                Produce(producer, topics.Predictions, Make.Prediction($"l{n}", arm: "logreg", experiment: "shop"));
                Produce(producer, topics.Labels, revenue[n] is { } r ? Outcomes.Label($"l{n}", ("revenue", r), ("clicked", 1)) : Outcomes.Label($"l{n}", ("clicked", 0)));
            }

            for (var n = 0; n < 2; n++)
            {
                Produce(producer, topics.Predictions, Make.Prediction($"b{n}", arm: "boosted", experiment: "shop"));
                Produce(producer, topics.Labels, Outcomes.Label($"b{n}", ("revenue", 4)));
            }

            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var settings = SinkOverKafka.Settings(cluster, topics, tracking, "sink-outcomes-" + Guid.NewGuid().ToString("N"));
        settings["MetricsSink:ExperimentFile"] = spec;
        await using var app = MetricsSinkApp.Create([], settings);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            JsonElement logreg = default;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                using var summary = JsonDocument.Parse(await http.GetStringAsync("/api/summary"));
                var arms = summary.RootElement.GetProperty("experiments").EnumerateArray().SelectMany(e => e.GetProperty("arms").EnumerateArray()).ToList();
                if (arms.Sum(a => a.GetProperty("joined").GetInt64()) == 6)
                {
                    logreg = arms.Single(a => a.GetProperty("arm").GetString() == "logreg").Clone();
                    break;
                }

                await Task.Delay(100);
            }

            Assert.Equal(JsonValueKind.Object, logreg.ValueKind);
            var revenue = logreg.GetProperty("outcomes").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "revenue");
            Assert.Equal((20.0, 3L, 1L), (revenue.GetProperty("value").GetDouble(), revenue.GetProperty("count").GetInt64(), revenue.GetProperty("missing").GetInt64()));

            app.Services.GetRequiredService<WindowCloser>().CloseWindow();
            var scrape = await http.GetStringAsync("/metrics");

            Assert.Equal(20.0, Gauge(scrape, "mesh_metrics_sink_window_outcome{", "logreg", "revenue"));
            Assert.Equal(0.75, Gauge(scrape, "mesh_metrics_sink_window_outcome{", "logreg", "clicked"));
            Assert.Equal(4.0, Gauge(scrape, "mesh_metrics_sink_window_outcome{", "boosted", "revenue"));
            Assert.Equal(1.0, Gauge(scrape, "mesh_metrics_sink_window_outcome_missing{", "logreg", "revenue"));
        }
        finally
        {
            await app.StopAsync();
            File.Delete(spec);
            if (Directory.Exists(tracking))
            {
                Directory.Delete(tracking, recursive: true);
            }
        }
    }

    // The value of the one sample of the metric whose labels name the arm and the outcome.
    private static double Gauge(string scrape, string metric, string arm, string outcome)
    {
        var line = Assert.Single(scrape.Split('\n'), l => l.StartsWith(metric, StringComparison.Ordinal)
            && l.Contains($"arm=\"{arm}\"", StringComparison.Ordinal) && l.Contains($"outcome=\"{outcome}\"", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf('}') + 2)..].Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static void Produce<T>(IProducer<byte[], byte[]> producer, string topic, T message)
        where T : IMessage<T> =>
        producer.Produce(topic, new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes("entity-1"), Value = message.ToByteArray() });
}
