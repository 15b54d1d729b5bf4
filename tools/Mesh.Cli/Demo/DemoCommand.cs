using System.Diagnostics;
using System.Globalization;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Spectre.Console;

namespace Mesh.Cli.Demo;

internal sealed record DemoSettings(int DurationSeconds, int Rate, string? AppHostPath, string Configuration, string StateDir, bool Dashboard, string? DriftFeature);

/// <summary>
/// `mesh demo`: starts the AppHost (broker + five services as separate processes) and a redis-server for the bandit's
/// rewards, streams the held-out iris rows through an A/B test with a shadow and a Thompson-sampling bandit for a set
/// duration, moves one feature's mean halfway through, shows progress from the metrics sink, stops everything and
/// prints the per-arm table, the bandit's traffic shares over time and the drift flags.
/// </summary>
internal static class DemoCommand
{
    private static readonly TimeSpan s_startupBudget = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_drainBudget = TimeSpan.FromSeconds(30);

    // A start that failed because another process took a port the AppHost picked (PortConflict) is made again.
    private const string PortTaken = "a port was taken";
    private const int MaxStarts = 3;

    public static async Task<int> RunAsync(DemoSettings settings, CancellationToken cancellationToken)
    {
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 120)
        {
            // Piped to a log or CI: keep the table on one line per arm.
            AnsiConsole.Profile.Width = 120;
        }

        if (RepositoryRoot.TryFind() is not { } root)
        {
            Console.Error.WriteLine($"error: {RepositoryRoot.NotFoundMessage}");
            return 78;
        }

        var appHost = settings.AppHostPath ?? Path.Combine(root, "tools", "Mesh.AppHost", "bin", settings.Configuration, "net10.0", "Mesh.AppHost.dll");
        if (!File.Exists(appHost))
        {
            Console.Error.WriteLine($"error: the AppHost is not built at '{appHost}'. Run './build.sh --target=Demo' (it builds first) or pass --apphost.");
            return 2;
        }

        var models = Path.Combine(settings.StateDir, "models");
        var holdout = Path.Combine(models, DemoModelTrainer.HoldoutFileName);
        if (!File.Exists(holdout) || !File.Exists(Path.Combine(models, DemoModelTrainer.CandidateName, DemoModelTrainer.ModelVersion, "model.onnx")))
        {
            AnsiConsole.MarkupLine("[grey]Training the demo models...[/]");
            DemoModelTrainer.Train(Path.Combine(root, "data", "iris.csv"), models, TextWriter.Null, withCandidate: true);
        }

        using var redis = await StartRedisAsync(cancellationToken).ConfigureAwait(false);

        var expected = settings.Rate * settings.DurationSeconds;
        var summaryPath = Path.Combine(settings.StateDir, "tracking", "summary.json");
        var runDir = Path.Combine(settings.StateDir, "run");
        Directory.CreateDirectory(runDir);
        if (File.Exists(summaryPath))
        {
            File.Delete(summaryPath);
        }
        var log = Path.Combine(runDir, "apphost.log");

        var experiments = redis is null ? 1 : 2;
        AnsiConsole.MarkupLine($"[bold]Mesh demo[/]: {expected:N0} records at {settings.Rate}/s, drawn from the 30 iris rows the models were not trained on, through an A/B test of two models (50/50, sticky by entity) with a third model as a shadow"
            + (redis is null ? "." : ", and a Thompson-sampling bandit over the same two models that learns from the labels."));
        if (settings.DriftFeature is { } drifted)
        {
            AnsiConsole.MarkupLine($"From record {expected / 2:N0} on, {Markup.Escape(drifted)} moves by 1.5 standard deviations: the page and the closing table flag it against each arm's first 500 records, without waiting for labels.");
        }

        AnsiConsole.MarkupLine($"[grey]Processes: embedded broker, model-host, router, producer, consumer, metrics-sink{(redis is null ? "" : ", redis-server")} (AppHost log: {Markup.Escape(log)}; service logs: {Markup.Escape(Path.Combine(runDir, "logs"))}).[/]");

        var started = Stopwatch.StartNew();
        var shares = new BanditShares();
        DemoSummary? summary = null;
        var outcome = "interrupted";
        for (var attempt = 1; ; attempt++)
        {
            outcome = "interrupted";
            using var process = StartAppHost(appHost, root, settings, new StackInputs(expected, holdout, redis?.Configuration), log);
            shares.Clear();
            try
            {
                outcome = await WatchAsync(process, summaryPath, new DemoExpectation(expected, experiments), settings, started, s => { summary = s; shares.Observe(s); }, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]Stopping (Ctrl-C)...[/]");
            }
            finally
            {
                await StopAsync(process).ConfigureAwait(false);
                await WaitForServicesToExitAsync(Path.Combine(runDir, "bootstrap.servers")).ConfigureAwait(false);
            }

            if (!outcome.StartsWith(PortTaken, StringComparison.Ordinal) || attempt == MaxStarts)
            {
                break;
            }

            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(outcome)}; starting again on new ports ({attempt + 1} of {MaxStarts}).[/]");
            started.Restart();
            summary = null;
            File.Delete(summaryPath);
            // The last start's logs name the taken port; the next start must not be judged by them.
            if (Directory.Exists(Path.Combine(runDir, "logs")))
            {
                Directory.Delete(Path.Combine(runDir, "logs"), recursive: true);
            }
        }

        summary = DemoSummary.TryRead(summaryPath) ?? summary;
        DemoTables.PrintTable(summary, expected, started.Elapsed);
        shares.Print();
        DemoDrift.Print(summary);
        AnsiConsole.MarkupLine($"Predictions written by the consumer: {Markup.Escape(Path.Combine(settings.StateDir, "predictions.jsonl"))}; tracking folder: {Markup.Escape(Path.GetDirectoryName(summaryPath)!)}");
        switch (outcome)
        {
            case "complete":
                AnsiConsole.MarkupLine($"[green]Done in {started.Elapsed.TotalSeconds:F0} s: every record got a prediction and every prediction its label.[/]");
                return 0;
            case "interrupted":
                return 130;
            default:
                AnsiConsole.MarkupLine($"[red]The demo did not complete: {Markup.Escape(outcome)}. See {Markup.Escape(log)} and the service logs.[/]");
                return 1;
        }
    }

    private static async Task<string> WatchAsync(Process process, string summaryPath, DemoExpectation expected, DemoSettings settings, Stopwatch started, Action<DemoSummary> onSummary, CancellationToken cancellationToken)
    {
        TimeSpan? streamingSince = null;
        var pageShown = false;
        var endpoints = Path.Combine(settings.StateDir, "run", "endpoints.json");
        var lastPrinted = TimeSpan.Zero;
        var lastJoined = -1L;
        var lastProgress = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            if (process.HasExited)
            {
                return $"the AppHost exited early with code {process.ExitCode}";
            }

            var summary = DemoSummary.TryRead(summaryPath);
            var now = started.Elapsed;
            if (!pageShown && summary is not null && TryReadPage(endpoints) is { } page)
            {
                pageShown = true;
                AnsiConsole.MarkupLine($"Live experiment page: [link]{Markup.Escape(page)}[/]");
            }

            if (summary is not null)
            {
                onSummary(summary);
                streamingSince ??= summary.Predictions > 0 ? now : null;
                if (summary.Joined != lastJoined)
                {
                    lastJoined = summary.Joined;
                    lastProgress = now;
                }

                if (expected.IsMet(summary))
                {
                    DemoTables.PrintProgress(summary, expected, now);
                    return "complete";
                }
            }

            if (now - lastPrinted >= TimeSpan.FromSeconds(2))
            {
                lastPrinted = now;
                if (summary is null || summary.Predictions == 0)
                {
                    AnsiConsole.MarkupLine($"[grey]{now.TotalSeconds,4:F0}s  starting the broker and services...[/]");
                }
                else
                {
                    DemoTables.PrintProgress(summary, expected, now);
                }
            }

            if (streamingSince is null && PortConflict.Find(PortConflict.RunLogs(Path.Combine(settings.StateDir, "run"))) is { } conflict)
            {
                return $"{PortTaken} ({conflict})";
            }

            if (streamingSince is null && now > s_startupBudget)
            {
                return $"no prediction within {s_startupBudget.TotalSeconds:F0} s of start";
            }

            if (streamingSince is { } since && now - since > TimeSpan.FromSeconds(settings.DurationSeconds) + s_drainBudget && now - lastProgress > TimeSpan.FromSeconds(10))
            {
                return $"stalled at {lastJoined:N0} of {expected.Records * expected.Experiments:N0} joined predictions";
            }
        }
    }

    private static string? TryReadPage(string endpoints)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(endpoints));
            return json.RootElement.GetProperty("experimentPage").GetString();
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    private sealed record StackInputs(int Count, string DataFile, string? Redis);

    // The bandit's rewards go from the sink to the router through Redis; without redis-server the demo runs without it.
    private static async Task<RedisProcess?> StartRedisAsync(CancellationToken cancellationToken)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "redis-server")));
        if (!found)
        {
            AnsiConsole.MarkupLine("[yellow]redis-server is not installed: the bandit experiment is left out (apt-get install redis-server to see it).[/]");
            return null;
        }

        return await RedisProcess.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Process StartAppHost(string appHost, string root, DemoSettings settings, StackInputs inputs, string log)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { appHost },
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = info.Environment;
        env["DOTNET_ENVIRONMENT"] = "Production";
        // The dashboard gets the usual ports; without it, free ones, so two demos (or a demo and a test) never collide.
        // Picked, not bound by the AppHost itself: a port taken in between fails this start, and RunAsync starts again.
        var ports = new LoopbackPorts();
        env["ASPNETCORE_URLS"] = LoopbackPorts.Url(settings.Dashboard ? 18888 : ports.Next());
        env["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = LoopbackPorts.Url(settings.Dashboard ? 18889 : ports.Next());
        env["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        env["MESH_DASHBOARD"] = settings.Dashboard ? "true" : "false";
        env["Mesh__RepositoryRoot"] = root;
        env["Mesh__StateDir"] = settings.StateDir;
        env["Mesh__Rate"] = settings.Rate.ToString(CultureInfo.InvariantCulture);
        env["Mesh__Count"] = inputs.Count.ToString(CultureInfo.InvariantCulture);
        env["Mesh__DurationSeconds"] = "0";
        env["Mesh__DataFile"] = inputs.DataFile;
        if (inputs.Redis is { } redis)
        {
            env["Mesh__Redis"] = redis;
        }

        if (settings.DriftFeature is { } feature)
        {
            env["Mesh__Drift__Feature"] = feature;
            env["Mesh__Drift__Shift"] = "1.5";
            env["Mesh__Drift__AfterRecords"] = (inputs.Count / 2).ToString(CultureInfo.InvariantCulture);
        }

        // The stream repeats the 30 held-out rows, a sample too small to resemble the training profile: each arm's own
        // first records (before the drift) are what the rest of the stream is compared with.
        env["Mesh__Drift__Reference"] = "first-records";

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the AppHost.");
        var writer = new StreamWriter(log, append: false) { AutoFlush = true };
        var gate = new object();
        var closed = false;
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                if (!closed)
                {
                    writer.WriteLine(line);
                }
            }

            if (line.Contains("Login to the dashboard at", StringComparison.Ordinal))
            {
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line.Trim())}[/]");
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Output can still arrive after Exited; the writer closes under the same lock, and later lines are dropped.
        process.Exited += (_, _) =>
        {
            lock (gate)
            {
                closed = true;
                writer.Dispose();
            }
        };
        process.EnableRaisingEvents = true;
        return process;
    }

    // SIGTERM lets the AppHost stop its resources in order; its orchestrator removes every child process.
    private static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        _ = ServiceProcess.Signal(process.Id, 15);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    // The AppHost's orchestrator stops the services after the AppHost itself has exited; the demo returns only
    // when no process of this run is left (each got the run's bootstrap file in its environment).
    private static async Task WaitForServicesToExitAsync(string bootstrapFile)
    {
        var marker = System.Text.Encoding.UTF8.GetBytes("Kafka__BootstrapFile=" + bootstrapFile + "\0");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var left = Directory.EnumerateDirectories("/proc")
                .Where(d => int.TryParse(Path.GetFileName(d), out var pid) && pid != Environment.ProcessId)
                .Count(d => EnvironmentContains(Path.Combine(d, "environ"), marker));
            if (left == 0)
            {
                return;
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        AnsiConsole.MarkupLine("[yellow]Some service processes of this run were still stopping after 30 s.[/]");
    }

    private static bool EnvironmentContains(string path, byte[] marker)
    {
        try
        {
            return File.ReadAllBytes(path).AsSpan().IndexOf(marker) >= 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
