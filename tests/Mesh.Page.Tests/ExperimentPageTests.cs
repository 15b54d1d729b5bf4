namespace Mesh.Page.Tests;

/// <summary>
/// The experiment page while predictions and labels flow: the metrics sink hosted in-process on the test
/// broker, fed the way the router and producer feed it, and the page driven in Debian's Chromium.
/// </summary>
public sealed class ExperimentPageTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    // Debian's Chromium: Playwright must never download a browser of its own (the machines have no browser download).
    internal const string ChromiumPath = "/usr/lib/chromium/chromium";

    internal static readonly string[] s_chromiumFlags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Page_WhileRecordsFlow_ShowsBothArmsUpdatingWithCharts()
    {
        var topics = await CreateTopicsAsync();
        // Every fourth primary Prediction routed by lag-aware shedding: the shedding panel shows about a quarter.
        await using var feed = new PredictionFeed(cluster.BootstrapServers, topics, shedEvery: 4);
        // The experiment declares two of the outcomes its labels carry: a column each in the arm table.
        var spec = Path.Combine(Path.GetTempPath(), "page-outcomes-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(spec, """
            experiments:
              - name: iris-ab
                strategy: ab
                outcomes:
                  - {name: revenue, aggregate: mean}
                  - {name: clicked, aggregate: rate}
            """);
        await using var app = CreateSink(cluster, topics, new() { ["MetricsSink:ExperimentFile"] = spec });
        await app.StartAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text + " at " + message.Location);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        var screenshot = Path.Combine(RepoPaths.Artifacts(), "experiment-page.png");
        try
        {
            var response = await page.GotoAsync(app.Urls.First() + "/");
            Assert.NotNull(response);
            Assert.Equal(200, response.Status);
            Assert.EndsWith("/experiments", page.Url, StringComparison.Ordinal);
            Assert.Equal("Mesh · live experiments", await page.TitleAsync());

            // Both primary arms and the shadow appear with non-zero counts.
            await WaitUntilAsync(page, "n => ['logreg', 'boosted', 'challenger'].every(arm => count(arm, 'predictions') > 0 && count(arm, 'joined') > 0)");
            var first = await CountAsync(page, "logreg");

            // The counts move while records flow, without reloading the page.
            await WaitUntilAsync(page, $"n => count('logreg', 'predictions') > {first} && count('boosted', 'predictions') > 0");
            Assert.True(await CountAsync(page, "logreg") > first);

            // Charts are drawn: one line per arm in the throughput chart, shares as areas, a verdict past collecting.
            await WaitUntilAsync(page, "n => document.querySelectorAll('[data-chart=throughput] svg path').length >= 3"
                + " && document.querySelectorAll('[data-chart=share] svg polygon').length === 2"
                + " && document.querySelectorAll('[data-chart=accuracy] svg path').length >= 2"
                + " && !document.querySelector('[data-verdict]').className.includes('collecting')");
            Assert.Equal("true", await page.GetAttributeAsync("tr[data-arm=challenger]", "data-shadow"));
            // The shadow's agreement with the primary answers for the same records.
            await WaitUntilAsync(page, "n => document.querySelector('tr[data-arm=challenger] td[data-field=agreement]').textContent.includes('%')");
            Assert.Equal("–", await page.InnerTextAsync("tr[data-arm=logreg] td[data-field=agreement]"));
            Assert.Contains("%", await page.InnerTextAsync("tr[data-arm=boosted] td[data-field=share]"), StringComparison.Ordinal);
            Assert.Equal("live", (await page.GetAttributeAsync("#status", "class"))?.Split(' ').Last());
            Assert.NotEmpty(await page.InnerTextAsync("[data-verdict]"));

            // Latency p50 and p99 each on their own axis, every arm in each legend, over the last window rather than since start.
            await WaitUntilAsync(page, "n => ['latency-p50', 'latency-p99'].every(c => document.querySelectorAll(`[data-chart=${c}] svg path`).length >= 3"
                + " && document.querySelectorAll(`[data-chart=${c}] .legend span[class^=key]`).length === 3)");
            Assert.Contains("last", await page.InnerTextAsync("[data-chart=latency-p99] h3"), StringComparison.Ordinal);
            Assert.True(await page.EvaluateAsync<bool>("() => state.samples.at(-1).arms.every(a => a.latencyP99Ms === null || a.latencyP99Ms > 0)"));
            // Each declared outcome in its own column: boosted's revenue averages about 12, a tenth of the labels lack it.
            await WaitUntilAsync(page, "n => count('boosted', 'joined') > 50");
            Assert.Equal(["revenue mean", "clicked rate"], (await page.Locator("table.arms th").AllInnerTextsAsync()).Where(h => h.StartsWith("revenue", StringComparison.Ordinal) || h.StartsWith("clicked", StringComparison.Ordinal)));
            var revenue = (await page.InnerTextAsync("tr[data-arm=boosted] td[data-field=outcome-revenue]")).Split('\n', StringSplitOptions.TrimEntries);
            Assert.InRange(double.Parse(revenue[0], System.Globalization.CultureInfo.InvariantCulture), 11.5, 12.5);
            Assert.EndsWith(" missing", revenue[1], StringComparison.Ordinal);
            Assert.Contains("%", await page.InnerTextAsync("tr[data-arm=logreg] td[data-field=outcome-clicked]"), StringComparison.Ordinal);
            // The arm table fits the 1280-pixel window: its last column (dead letters) is not cut off.
            Assert.True(await page.EvaluateAsync<bool>("() => { const t = document.querySelector('table.arms'); return t.getBoundingClientRect().right <= t.closest('section').getBoundingClientRect().right; }"),
                "the arm table is wider than its section at 1280 pixels");
            // Every total and column says what it counts.
            Assert.Contains("label", await page.GetAttributeAsync("[data-total=pending]", "title") ?? "", StringComparison.Ordinal);
            // The shedding panel, from the Predictions' routing_reason: a quarter of the window's records, and shadow copies.
            await WaitUntilAsync(page, "n => document.querySelector('[data-shedding]').className.includes('active')");
            var shed = double.Parse(await page.GetAttributeAsync("[data-field=shedShare]", "data-share") ?? "", System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(shed, 0.15, 0.35);
            Assert.Contains("routed to the champion by shedding", await page.InnerTextAsync("[data-shedding]"), StringComparison.Ordinal);
            Assert.Contains("shadow copies for", await page.InnerTextAsync("[data-shedding]"), StringComparison.Ordinal);

            // A few more samples so the screenshot shows lines over time, not a single step.
            var samples = await page.EvaluateAsync<int>("() => state.samples.length");
            await WaitUntilAsync(page, $"n => state.samples.length >= {samples + 12}");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });

            // Once the stream stops, the page stops saying "live".
            await feed.DisposeAsync();
            await WaitUntilAsync(page, "n => document.getElementById('status').className.includes('idle')");
            Assert.Contains("no new prediction since", await page.InnerTextAsync("#status-text"), StringComparison.Ordinal);
            // Closed before the sink stops, so the page's next poll cannot fail and log an error.
            await page.CloseAsync();
        }
        catch
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepoPaths.Artifacts(), "experiment-page-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await app.StopAsync();
            File.Delete(spec);
        }

        Assert.True(errors.Count == 0, "the page logged errors: " + string.Join(" | ", errors));
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot should hold a rendered page");
    }

    [Fact]
    public async Task Endpoints_Served_PageAssetsAndTimelineFromTheBinary()
    {
        var topics = await CreateTopicsAsync();
        await using var feed = new PredictionFeed(cluster.BootstrapServers, topics, perTick: 10);
        await using var app = CreateSink(topics);
        await app.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(app.Urls.First()) };

        var root = await http.GetAsync("/");
        var script = await http.GetAsync("/experiments/page.js");
        var missing = await http.GetAsync("/experiments/nothing.js");
        var html = await http.GetStringAsync("/experiments");
        JsonElement data = default;
        var deadline = DateTime.UtcNow + s_wait;
        while (DateTime.UtcNow < deadline)
        {
            data = JsonDocument.Parse(await http.GetStringAsync("/api/page")).RootElement;
            if (data.GetProperty("samples").GetArrayLength() >= 2 && data.GetProperty("summary").GetProperty("joined").GetInt64() > 0)
            {
                break;
            }

            await Task.Delay(200);
        }

        var lastT = data.GetProperty("samples").EnumerateArray().Last().GetProperty("t").GetInt64();
        var later = JsonDocument.Parse(await http.GetStringAsync($"/api/page?since={lastT}")).RootElement;
        await app.StopAsync();

        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/experiments", root.Headers.Location?.OriginalString);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // No CDN: every script and stylesheet the page loads comes from the sink itself.
        Assert.DoesNotContain("http", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(250, data.GetProperty("intervalMs").GetInt32());
        Assert.True(data.GetProperty("samples").GetArrayLength() >= 2);
        Assert.Equal("iris-ab", data.GetProperty("verdicts")[0].GetProperty("experiment").GetString());
        Assert.All(later.GetProperty("samples").EnumerateArray(), s => Assert.True(s.GetProperty("t").GetInt64() > lastT));
    }

    [Fact]
    public async Task Start_SampleIntervalTooShort_RefusesNamingTheSetting()
    {
        var topics = await CreateTopicsAsync();
        await using var app = CreateSink(topics, sampleIntervalMs: "5");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("MetricsSink:Page:SampleIntervalMs", error.Message, StringComparison.Ordinal);
    }

    internal static Task WaitUntilAsync(IPage page, string condition, TimeSpan? wait = null) =>
        page.WaitForFunctionAsync(
            "condition => { const count = (arm, field) => { const cell = document.querySelector(`tr[data-arm=\"${arm}\"] td[data-field=\"${field}\"]`);"
            + " return cell ? Number(cell.textContent.replace(/,/g, '')) : 0; }; return eval(condition)(0); }",
            condition,
            new PageWaitForFunctionOptions { Timeout = (float)(wait ?? s_wait).TotalMilliseconds, PollingInterval = 100 });

    internal static async Task<long> CountAsync(IPage page, string arm) =>
        long.Parse((await page.InnerTextAsync($"tr[data-arm={arm}] td[data-field=predictions]")).Replace(",", "", StringComparison.Ordinal),
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Debian's Chromium, headless, as every page test drives it.</summary>
    internal static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = s_chromiumFlags,
        });

    private Task<MeshTopics> CreateTopicsAsync() => cluster.CreateMeshTopicsAsync(2);

    [Fact]
    public async Task Page_TrackingUiConfigured_EachArmsNameOpensItsRunInMlflow()
    {
        var topics = await CreateTopicsAsync();
        await using var feed = new PredictionFeed(cluster.BootstrapServers, topics);
        var tracking = Path.Combine(Path.GetTempPath(), "page-links-" + Guid.NewGuid().ToString("N"));
        // The local folder in MLflow's file-store layout, as `mlflow ui --backend-store-uri <folder>/mlruns` would serve it.
        await using var app = CreateSink(cluster, topics, new()
        {
            ["MetricsSink:TrackingDir"] = tracking,
            ["MetricsSink:WindowSeconds"] = "1",
            ["MetricsSink:Page:TrackingUiUrl"] = "http://127.0.0.1:5000",
        });
        await app.StartAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromiumAsync(playwright);
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
            await page.GotoAsync(app.Urls.First() + "/experiments");

            await WaitUntilAsync(page, "n => ['logreg', 'boosted', 'challenger'].every(arm => !!document.querySelector(`tr[data-arm=\"${arm}\"] a[data-field=run]`))");
            foreach (var arm in new[] { "logreg", "boosted", "challenger" })
            {
                var href = await page.GetAttributeAsync($"tr[data-arm={arm}] a[data-field=run]", "href") ?? "";
                var match = System.Text.RegularExpressions.Regex.Match(href, "^http://127\\.0\\.0\\.1:5000/#/experiments/([^/]+)/runs/([0-9a-f]{32})$");
                Assert.True(match.Success, $"{arm}: {href}");
                // The ids are the run's own: its folder in the tracking store, tagged with this arm.
                var run = Path.Combine(tracking, "mlruns", match.Groups[1].Value, match.Groups[2].Value);
                Assert.Equal(arm, (await File.ReadAllTextAsync(Path.Combine(run, "tags", "mesh.arm"))).Trim());
                Assert.Equal(arm, await page.InnerTextAsync($"tr[data-arm={arm}] a[data-field=run]"));
            }

            await page.CloseAsync();
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(tracking, recursive: true);
        }
    }

    private WebApplication CreateSink(MeshTopics topics, string sampleIntervalMs = "250") => CreateSink(cluster, topics, new() { ["MetricsSink:Page:SampleIntervalMs"] = sampleIntervalMs });

    /// <summary>The metrics sink in-process on the test broker, its page on a free port; <paramref name="settings"/> go over the defaults.</summary>
    internal static WebApplication CreateSink(KafkaTestCluster cluster, MeshTopics topics, Dictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["MetricsSink:TrackingDir"] = Path.Combine(Path.GetTempPath(), "page-test-" + Guid.NewGuid().ToString("N")),
            ["MetricsSink:GroupId"] = "page-test-" + Guid.NewGuid().ToString("N"),
            ["MetricsSink:FlushIntervalMs"] = "200",
            ["MetricsSink:Page:SampleIntervalMs"] = "250",
        };
        all.SetMeshSettings(cluster.BootstrapServers, topics);
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return MetricsSinkApp.Create([], all);
    }
}
