using System.Diagnostics;
using System.Globalization;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Spectre.Console;

namespace Mesh.Cli.Demo;

internal sealed record DemoSettings(int DurationSeconds, int Rate, string? AppHostPath, string Configuration, string StateDir, bool Dashboard);

/// <summary>
/// `mesh demo`: starts the AppHost (broker + five services as separate processes), streams iris through the
/// A/B experiment for a set duration, shows progress from the metrics sink, stops everything and prints
/// the per-arm table.
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
        if (!Directory.Exists(models) || Directory.GetFiles(models, "model.onnx", SearchOption.AllDirectories).Length < 2)
        {
            AnsiConsole.MarkupLine("[grey]Training the demo models...[/]");
            DemoModelTrainer.Train(Path.Combine(root, "data", "iris.csv"), models, TextWriter.Null);
        }

        var expected = settings.Rate * settings.DurationSeconds;
        var summaryPath = Path.Combine(settings.StateDir, "tracking", "summary.json");
        var runDir = Path.Combine(settings.StateDir, "run");
        Directory.CreateDirectory(runDir);
        if (File.Exists(summaryPath))
        {
            File.Delete(summaryPath);
        }
        var log = Path.Combine(runDir, "apphost.log");

        AnsiConsole.MarkupLine($"[bold]Mesh demo[/]: {expected:N0} iris records at {settings.Rate}/s through an A/B test of two models (50/50, sticky by entity).");
        AnsiConsole.MarkupLine($"[grey]Processes: embedded broker, model-host, router, producer, consumer, metrics-sink (AppHost log: {Markup.Escape(log)}; service logs: {Markup.Escape(Path.Combine(runDir, "logs"))}).[/]");

        var started = Stopwatch.StartNew();
        DemoSummary? summary = null;
        var outcome = "interrupted";
        for (var attempt = 1; ; attempt++)
        {
            outcome = "interrupted";
            using var process = StartAppHost(appHost, root, settings, expected, log);
            try
            {
                outcome = await WatchAsync(process, summaryPath, expected, settings, started, s => summary = s, cancellationToken).ConfigureAwait(false);
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
        PrintTable(summary, expected, started.Elapsed);
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

    private static async Task<string> WatchAsync(Process process, string summaryPath, int expected, DemoSettings settings, Stopwatch started, Action<DemoSummary> onSummary, CancellationToken cancellationToken)
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

                if (summary.Predictions >= expected && summary.Joined >= expected)
                {
                    PrintProgress(summary, expected, now);
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
                    PrintProgress(summary, expected, now);
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
                return $"stalled at {lastJoined:N0} of {expected:N0} joined predictions";
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

    private static void PrintProgress(DemoSummary summary, int expected, TimeSpan now)
    {
        var arms = summary.Experiments.SelectMany(e => e.Arms)
            .Select(a => $"{a.Arm} {a.Predictions:N0} acc {a.Accuracy:F2}");
        AnsiConsole.MarkupLine(Markup.Escape(
            $"{now.TotalSeconds,4:F0}s  {100.0 * summary.Predictions / expected,3:F0}%  predictions {summary.Predictions:N0}/{expected:N0}  labelled {summary.Joined:N0}  | {string.Join(" | ", arms)}"));
    }

    private static void PrintTable(DemoSummary? summary, int expected, TimeSpan elapsed)
    {
        if (summary is null)
        {
            AnsiConsole.MarkupLine("[red]No results: the metrics sink wrote no summary.[/]");
            return;
        }

        foreach (var experiment in summary.Experiments)
        {
            var table = new Table().Title($"experiment {Markup.Escape(experiment.Experiment)}: {summary.Predictions:N0} of {expected:N0} records predicted, {elapsed.TotalSeconds:F0} s");
            table.AddColumns("arm", "model", "records", "labelled", "accuracy", "p50 ms", "p99 ms");
            foreach (var column in table.Columns.Skip(2))
            {
                column.RightAligned();
            }

            foreach (var arm in experiment.Arms.OrderBy(a => a.Shadow).ThenBy(a => a.Arm, StringComparer.Ordinal))
            {
                table.AddRow(
                    Markup.Escape(arm.Arm + (arm.Shadow ? " (shadow)" : "")),
                    Markup.Escape($"{arm.Model} v{arm.Version}"),
                    arm.Predictions.ToString("N0", CultureInfo.InvariantCulture),
                    arm.Joined.ToString("N0", CultureInfo.InvariantCulture),
                    arm.Accuracy.ToString("F3", CultureInfo.InvariantCulture),
                    arm.LatencyP50Ms.ToString("F1", CultureInfo.InvariantCulture),
                    arm.LatencyP99Ms.ToString("F1", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
        }

        AnsiConsole.MarkupLine("[grey]records: predictions made by the arm; labelled: joined with their label; p50/p99: end-to-end latency, event time to prediction produced.[/]");
        AnsiConsole.MarkupLine($"predictions {summary.Predictions:N0}, labels {summary.Labels:N0}, joined {summary.Joined:N0}, duplicate predictions {summary.DuplicatePredictions:N0}, labels without prediction {summary.UnmatchedLabels:N0}");
    }

    private static Process StartAppHost(string appHost, string root, DemoSettings settings, int count, string log)
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
        env["Mesh__Count"] = count.ToString(CultureInfo.InvariantCulture);
        env["Mesh__DurationSeconds"] = "0";

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
