namespace Mesh.Page.Tests;

/// <summary>
/// The page's drift strip as a person watching a drift would see it: a model without a reference profile (so the sink
/// takes its first records and says so), then one feature moved far off while the others stay, in Debian's Chromium.
/// </summary>
public sealed class DriftPageTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly string[] s_features = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
    private static readonly double[] s_means = [5.8, 3.0, 3.8, 1.2];
    private static readonly double[] s_spreads = [0.8, 0.4, 1.7, 0.7];

    private volatile bool _shifted;

    [Fact]
    public async Task Page_FeatureShiftedMidStream_StripSaysTheReferenceAndPutsTheShiftedFeatureFirstAlerting()
    {
        var topics = await cluster.CreateMeshTopicsAsync(1);
        var alerts = KafkaTestCluster.UniqueTopic("alerts");
        await using var app = ExperimentPageTests.CreateSink(cluster, topics, new()
        {
            ["MetricsSink:WindowSeconds"] = "1",
            ["MetricsSink:AlertsTopic"] = alerts,
            ["MetricsSink:Drift:ReferenceRecords"] = "100",
            ["MetricsSink:Drift:MinRecords"] = "30",
        });
        await app.StartAsync();
        using var stop = new CancellationTokenSource();
        var feed = FeedAsync(topics.Predictions, stop.Token);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ExperimentPageTests.LaunchChromiumAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        try
        {
            await page.GotoAsync(app.Urls.First() + "/experiments");

            // Before the shift: measured against its first records, said so, and nothing alerting.
            await ExperimentPageTests.WaitUntilAsync(page, "n => { const r = document.querySelector('[data-drift-arm=logreg] [data-field=reference]');"
                + " return r && r.textContent.includes('first 100 records') && document.querySelectorAll('[data-drift-arm=logreg] tr[data-feature] td.cell').length >= 8; }");
            Assert.Equal(0, await page.Locator("[data-drift-arm=logreg] tr.alert").CountAsync());

            _shifted = true;
            await ExperimentPageTests.WaitUntilAsync(page, "n => !!document.querySelector('[data-drift-arm=logreg] tr[data-feature=petal_length].alert')");

            var rows = await page.Locator("[data-drift-arm=logreg] tr[data-feature]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.feature + ':' + r.className)");
            Assert.Equal("petal_length:alert", rows[0]);
            Assert.Equal(4, rows.Length);
            Assert.All(rows.Skip(1), r => Assert.EndsWith(":", r, StringComparison.Ordinal));
            // Red cells are alerts only: the shifted feature has them, the others none.
            Assert.True(await page.Locator("[data-drift-arm=logreg] tr[data-feature=petal_length] td.cell.alert").CountAsync() >= 1);
            Assert.Equal(0, await page.Locator("[data-drift-arm=logreg] tr[data-feature]:not([data-feature=petal_length]) td.cell.alert").CountAsync());
            Assert.StartsWith("⚠", await page.InnerTextAsync("[data-drift-arm=logreg] tr[data-feature=petal_length] th"), StringComparison.Ordinal);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepoPaths.Artifacts(), "drift-page.png"), FullPage = true });
            await page.CloseAsync();
        }
        finally
        {
            await stop.CancelAsync();
            await feed;
            await app.StopAsync();
        }

        Assert.True(errors.Count == 0, "the page logged errors: " + string.Join(" | ", errors));

        // The same alert as an event a pager or a retraining job reads from the alerts topic (JSON, docs/drift.md).
        var record = cluster.ReadAll(alerts, 1, TimeSpan.FromSeconds(30))[0];
        using var alert = System.Text.Json.JsonDocument.Parse(record.Message.Value);
        Assert.Equal("iris-ab/logreg", System.Text.Encoding.UTF8.GetString(record.Message.Key));
        Assert.Equal(("mesh.drift_alert.v1", "raised", "feature", "petal_length", "first-records"),
            (alert.RootElement.GetProperty("type").GetString(), alert.RootElement.GetProperty("state").GetString(), alert.RootElement.GetProperty("kind").GetString(),
             alert.RootElement.GetProperty("feature").GetString(), alert.RootElement.GetProperty("reference").GetString()));
        Assert.True(alert.RootElement.GetProperty("psi").GetDouble() >= alert.RootElement.GetProperty("threshold").GetDouble());
    }

    // 40 Predictions every 250 ms, the router's way (features copied in); after the switch petal_length is 3 spreads higher.
    private async Task FeedAsync(string topic, CancellationToken stop)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 5 }).Build();
        var random = new Random(5);
        long n = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < 40; i++, n++)
                {
                    var prediction = new Prediction
                    {
                        RequestId = $"drift-{n}",
                        EntityId = $"entity-{n % 50}",
                        Experiment = "iris-ab",
                        Arm = "logreg",
                        ModelName = "iris-logreg",
                        ModelVersion = "1",
                        Output = new PredictionOutput { Label = "setosa" },
                    };
                    for (var f = 0; f < s_features.Length; f++)
                    {
                        var shift = _shifted && f == 2 ? 3 * s_spreads[f] : 0;
                        prediction.Features.Add((float)(s_means[f] + shift + (s_spreads[f] * Gaussian(random))));
                    }

                    prediction.FeatureNames.Add(s_features);
                    producer.Produce(topic, new Message<byte[], byte[]> { Key = [], Value = prediction.ToByteArray(), Headers = MeshHeaders.Create<Prediction>(null) });
                }

                await Task.Delay(250, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }

        producer.Flush(TimeSpan.FromSeconds(5));
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
