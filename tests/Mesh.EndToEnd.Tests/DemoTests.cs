using Mesh.Cli.Demo;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The README's demo path without Cake: `mesh demo` starts the Aspire AppHost, which starts the embedded broker
/// and the five services as processes; the demo ends on its own with the per-arm table and exit code 0.
/// </summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_ShortRun_EndsOnItsOwnWithBothArmsAccurateAndEveryRecordJoined()
    {
        var state = Directory.CreateTempSubdirectory("mesh-demo-").FullName;
        try
        {
            var (exitCode, output) = await MeshCommand.RunAsync(TimeSpan.FromMinutes(4),
                "demo", "--duration", "5", "--rate", "100", "--state-dir", state);

            Assert.True(exitCode == 0, $"mesh demo exited {exitCode}:\n{output}\n{ReadLogs(state)}");
            Assert.Contains("every record got a prediction", output, StringComparison.Ordinal);
            var summary = DemoSummary.TryRead(Path.Combine(state, "tracking", "summary.json"));
            Assert.NotNull(summary);
            Assert.Equal(500, summary.Joined);
            var arms = summary.Experiments.Single().Arms;
            Assert.Equal(["boosted", "logreg"], arms.Select(a => a.Arm).Order(StringComparer.Ordinal));
            Assert.All(arms, a => Assert.True(a.Accuracy > 0.9, $"{a.Arm}: {a.Accuracy}"));
            Assert.True(File.ReadLines(Path.Combine(state, "predictions.jsonl")).Count() >= 500);
            // Every service's output was kept for the user.
            Assert.All(new[] { "broker", "model-host", "router", "producer", "consumer", "metrics-sink" },
                s => Assert.True(new FileInfo(Path.Combine(state, "run", "logs", s + ".log")).Length > 0, $"{s}.log is empty"));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static string ReadLogs(string state)
    {
        var logs = Path.Combine(state, "run", "logs");
        var appHost = Path.Combine(state, "run", "apphost.log");
        var appHostTail = File.Exists(appHost) ? "== apphost.log\n" + string.Join("\n", File.ReadLines(appHost).TakeLast(40)) + "\n" : "(no apphost.log)\n";
        return appHostTail + (Directory.Exists(logs)
            ? string.Join("\n", Directory.GetFiles(logs).Select(f => $"== {Path.GetFileName(f)}\n{string.Join("\n", File.ReadLines(f).TakeLast(30))}"))
            : "(no service logs)");
    }
}
