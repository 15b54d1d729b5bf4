namespace Mesh.Page.Tests;

/// <summary>
/// The experiment page while the demo runs: `mesh demo` starts the AppHost, the broker, the five services and a
/// redis-server; the page it announces is driven in Debian's Chromium while real predictions flow through the real
/// router: the A/B test with its shadow, the bandit, and the drift the demo injects halfway, each on the page.
/// </summary>
public sealed class DemoPageTests
{
    [Fact]
    public async Task Page_WhileTheDemoRuns_ShowsTheAbTestItsShadowTheBanditAndTheDriftFlagged()
    {
        var root = RepoPaths.Root();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var state = Directory.CreateTempSubdirectory("mesh-demo-page-").FullName;
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(root, "tools", "Mesh.Cli", "bin", configuration, "net10.0", "mesh.dll"),
                // The drift starts halfway (45 s of streaming in); the demo must still be running when the page flags it.
                "demo", "--duration", "90", "--rate", "100", "--configuration", configuration, "--state-dir", state,
            },
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var demo = Process.Start(info)!;
        var output = demo.StandardOutput.ReadToEndAsync();
        var errors = demo.StandardError.ReadToEndAsync();
        var screenshot = Path.Combine(RepoPaths.Artifacts(), "demo-page.png");
        try
        {
            var url = await WaitForPageUrlAsync(Path.Combine(state, "run", "endpoints.json"), Path.Combine(state, "tracking", "summary.json"), demo);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await ExperimentPageTests.LaunchChromiumAsync(playwright);
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
            var response = await page.GotoAsync(url);
            Assert.Equal(200, response!.Status);

            await ExperimentPageTests.WaitUntilAsync(page, "n => count('logreg', 'predictions') > 0 && count('boosted', 'predictions') > 0");
            var logreg = await ExperimentPageTests.CountAsync(page, "logreg");
            var boosted = await ExperimentPageTests.CountAsync(page, "boosted");
            await ExperimentPageTests.WaitUntilAsync(page, $"n => count('logreg', 'predictions') > {logreg} && count('boosted', 'predictions') > {boosted}");
            // Every strategy at once: the shadow beside the A/B arms, and the bandit's own section with both arms serving.
            Assert.Equal(1, await page.Locator("section[data-experiment=iris-ab] tr[data-arm=sdca]").CountAsync());
            await ExperimentPageTests.WaitUntilAsync(page, "n => { const s = document.querySelector('section[data-experiment=iris-bandit]');"
                + " return !!s && ['logreg', 'boosted'].every(a => { const c = s.querySelector(`tr[data-arm=\"${a}\"] td[data-field=predictions]`); return c && Number(c.textContent.replace(/[^0-9]/g, '')) > 0; }); }");

            // Before the drift no feature is flagged; from the middle of the stream on, sepal_width is, on the A/B arms.
            Assert.Equal(0, await page.Locator("section[data-experiment=iris-ab] [data-drift-arm] tr[data-feature]:not([data-feature=sepal_width]).alert").CountAsync());
            await ExperimentPageTests.WaitUntilAsync(page, "n => ['logreg', 'boosted'].every(a => !!document.querySelector(`section[data-experiment=iris-ab] [data-drift-arm=\"${a}\"] tr[data-feature=sepal_width].alert`))", TimeSpan.FromSeconds(120));
            Assert.Equal(0, await page.Locator("section[data-experiment=iris-ab] [data-drift-arm] tr[data-feature]:not([data-feature=sepal_width]).alert").CountAsync());
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            await page.CloseAsync();
        }
        finally
        {
            // SIGTERM, as Ctrl-C: the demo stops the AppHost, which stops every process it started.
            _ = Kill(demo.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await demo.WaitForExitAsync(timeout.Token);
            Directory.Delete(state, recursive: true);
        }

        var log = await output + await errors;
        Assert.True(demo.ExitCode == 130, $"the demo should stop on SIGTERM with 130, got {demo.ExitCode}:\n{log}");
        Assert.Contains("Live experiment page:", log, StringComparison.Ordinal);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot should hold a rendered page");
    }

    private static async Task<string> WaitForPageUrlAsync(string endpoints, string summary, Process demo)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline && !demo.HasExited)
        {
            if (File.Exists(endpoints) && File.Exists(summary))
            {
                using var json = JsonDocument.Parse(await File.ReadAllTextAsync(endpoints));
                return json.RootElement.GetProperty("experimentPage").GetString()!;
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"The demo announced no experiment page (exited: {demo.HasExited}).");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
