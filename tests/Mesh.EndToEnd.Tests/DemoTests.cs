namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The README's demo path without Cake: `mesh demo` starts the Aspire AppHost, which starts the embedded broker
/// and the five services as processes (and the demo a redis-server for the bandit); the demo ends on its own with
/// its tables and exit code 0, and the metrics sink leaves one MLflow run per arm of each experiment (the A/B test
/// with its shadow, the bandit): in the local tracking folder without MLFLOW_TRACKING_URI, on the tracking server
/// with it.
/// </summary>
public sealed class DemoTests
{
    private static readonly string[] s_experiments = ["iris-ab", "iris-bandit"];

    [Fact]
    public async Task Demo_ShortRun_EndsOnItsOwnWithBothArmsAccurateAndEveryRecordJoined()
    {
        var state = Directory.CreateTempSubdirectory("mesh-demo-").FullName;
        try
        {
            var summary = await RunDemoAsync(state, new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = "" });

            Assert.True(File.ReadLines(Path.Combine(state, "predictions.jsonl")).Count() >= 500);
            // Every service's output was kept for the user.
            Assert.All(new[] { "broker", "model-host", "router", "producer", "consumer", "metrics-sink" },
                s => Assert.True(new FileInfo(Path.Combine(state, "run", "logs", s + ".log")).Length > 0, $"{s}.log is empty"));

            // Without a tracking server the runs are in MLflow's file layout under the tracking folder.
            foreach (var experiment in s_experiments)
            {
                AssertOneRunPerArm(summary, experiment, LocalRuns(Path.Combine(state, "tracking", "mlruns"), experiment));
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Demo_WithMlflowTrackingUri_LeavesOneRunPerArmOnTheTrackingServer()
    {
        await using var mlflow = await FakeMlflowTrackingServer.StartAsync();
        var state = Directory.CreateTempSubdirectory("mesh-demo-mlflow-").FullName;
        try
        {
            var summary = await RunDemoAsync(state, new Dictionary<string, string>
            {
                ["MLFLOW_TRACKING_URI"] = mlflow.Uri.ToString().TrimEnd('/'),
            });

            foreach (var experiment in s_experiments)
            {
                Assert.NotNull(mlflow.ExperimentId(experiment));
                // Both experiments have arms named logreg and boosted: each run is found in its own experiment.
                var runs = summary.Experiments.Single(e => e.Experiment == experiment).Arms
                    .SelectMany(a => mlflow.RunsNamed($"{a.Arm}{(a.Shadow ? " (shadow)" : "")} {a.Model} v{a.Version}"))
                    .Where(r => r.ExperimentId == mlflow.ExperimentId(experiment))
                    .Select(r => new TrackedRun(r.Name, r.Params, r.Tags, r.Metrics.Select(m => (m.Key, m.Value, m.Timestamp, m.Step)).ToList()))
                    .ToList();
                AssertOneRunPerArm(summary, experiment, runs);
            }
            // With a server configured nothing goes to the local folder.
            Assert.False(Directory.Exists(Path.Combine(state, "tracking", "mlruns")), "runs were also written to the local folder");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static async Task<DemoSummary> RunDemoAsync(string state, IReadOnlyDictionary<string, string> environment)
    {
        var (exitCode, output) = await MeshCommand.RunAsync(TimeSpan.FromMinutes(4), environment,
            "demo", "--duration", "5", "--rate", "100", "--state-dir", state);

        Assert.True(exitCode == 0, $"mesh demo exited {exitCode}:\n{output}\n{ReadLogs(state)}");
        Assert.Contains("every record got a prediction", output, StringComparison.Ordinal);
        var summary = DemoSummary.TryRead(Path.Combine(state, "tracking", "summary.json"));
        Assert.NotNull(summary);
        Assert.Equal(s_experiments, summary.Experiments.Select(e => e.Experiment).Order(StringComparer.Ordinal));
        var ab = summary.Experiments.Single(e => e.Experiment == "iris-ab").Arms;
        Assert.Equal(["boosted", "logreg", "sdca"], ab.Select(a => a.Arm).Order(StringComparer.Ordinal));
        Assert.True(ab.Single(a => a.Arm == "sdca").Shadow, "sdca is the A/B test's shadow");
        // Every record predicted and joined once per experiment by its primary arms, and once more by the shadow.
        Assert.All(summary.Experiments, e => Assert.Equal(500, e.Arms.Where(a => !a.Shadow).Sum(a => a.Joined)));
        Assert.Equal(500, ab.Single(a => a.Shadow).Joined);
        Assert.Equal(1500, summary.Joined);
        // Accuracy on held-out rows; a bandit arm the policy barely tried says little, so only arms with 50 labels count.
        Assert.All(summary.Experiments.SelectMany(e => e.Arms).Where(a => a.Joined >= 50), a => Assert.True(a.Accuracy > 0.9, $"{a.Arm}: {a.Accuracy}"));
        return summary;
    }

    /// <summary>
    /// One run per arm of <paramref name="experiment"/>, named and parametrised after its model; its per-window
    /// metrics (one timestamp per window) add up to the arm's counts in summary.json, and the windows' accuracies
    /// weighted by their joined counts give the arm's accuracy.
    /// </summary>
    private static void AssertOneRunPerArm(DemoSummary summary, string experiment, IReadOnlyList<TrackedRun> runs)
    {
        // An arm the bandit never chose has no window to record.
        var arms = summary.Experiments.Single(e => e.Experiment == experiment).Arms.Where(a => a.Predictions > 0).ToList();
        Assert.Equal(arms.Count, runs.Count);
        foreach (var arm in arms)
        {
            var run = Assert.Single(runs, r => r.Tags.GetValueOrDefault("mesh.arm") == arm.Arm && r.Tags.GetValueOrDefault("mesh.shadow") == (arm.Shadow ? "true" : "false"));
            Assert.Equal(arm.Model, run.Params["model_name"]);
            Assert.Equal(arm.Version, run.Params["model_version"]);
            Assert.Equal(arm.Arm, run.Params["arm"]);
            Assert.Equal(experiment, run.Tags["mesh.experiment"]);

            Assert.Equal(arm.Predictions, (long)Sum(run, "predictions"));
            var joined = Sum(run, "joined");
            Assert.Equal(arm.Joined, (long)joined);
            var correct = run.Metrics.Where(m => m.Key == "accuracy")
                .Sum(m => m.Value * run.Metrics.Single(j => j.Key == "joined" && j.Step == m.Step && j.Timestamp == m.Timestamp).Value);
            Assert.Equal(arm.Correct, (long)Math.Round(correct));
            Assert.Equal((double)arm.Correct / arm.Joined, correct / joined, 9);
        }
    }

    private static double Sum(TrackedRun run, string key) => run.Metrics.Where(m => m.Key == key).Sum(m => m.Value);

    /// <summary>Reads MLflow's file store as a person would: the experiment by name, then each run's params, tags and metric files.</summary>
    private static List<TrackedRun> LocalRuns(string mlruns, string experiment)
    {
        Assert.True(Directory.Exists(mlruns), $"no {mlruns}");
        var experimentDir = Assert.Single(Directory.GetDirectories(mlruns),
            d => File.Exists(Path.Combine(d, "meta.yaml")) && File.ReadLines(Path.Combine(d, "meta.yaml")).Contains($"name: '{experiment}'"));
        return Directory.GetDirectories(experimentDir)
            .Where(d => File.Exists(Path.Combine(d, "meta.yaml")))
            .Select(d => new TrackedRun(
                Path.GetFileName(d),
                ReadFiles(Path.Combine(d, "params")),
                ReadFiles(Path.Combine(d, "tags")),
                Directory.GetFiles(Path.Combine(d, "metrics"))
                    .SelectMany(f => File.ReadLines(f).Select(line => line.Split(' ')).Select(p =>
                        (Path.GetFileName(f), double.Parse(p[1], CultureInfo.InvariantCulture), long.Parse(p[0], CultureInfo.InvariantCulture), long.Parse(p[2], CultureInfo.InvariantCulture))))
                    .ToList()))
            .ToList();
    }

    private static Dictionary<string, string> ReadFiles(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f).Trim(), StringComparer.Ordinal);

    private static string ReadLogs(string state)
    {
        var logs = Path.Combine(state, "run", "logs");
        var appHost = Path.Combine(state, "run", "apphost.log");
        var appHostTail = File.Exists(appHost) ? "== apphost.log\n" + string.Join("\n", File.ReadLines(appHost).TakeLast(40)) + "\n" : "(no apphost.log)\n";
        return appHostTail + (Directory.Exists(logs)
            ? string.Join("\n", Directory.GetFiles(logs).Select(f => $"== {Path.GetFileName(f)}\n{string.Join("\n", File.ReadLines(f).TakeLast(30))}"))
            : "(no service logs)");
    }

    private sealed record TrackedRun(string Name, IReadOnlyDictionary<string, string> Params, IReadOnlyDictionary<string, string> Tags, List<(string Key, double Value, long Timestamp, long Step)> Metrics);
}
