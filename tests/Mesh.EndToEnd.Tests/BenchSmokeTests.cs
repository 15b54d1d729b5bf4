namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A few seconds of `mesh bench` with tiny counts: it completes and every record sent came back as a
/// prediction in every scenario. No timing is asserted: figures belong to the benchmark, not to a test.
/// </summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task Bench_TinyRun_EveryScenarioGetsEveryRecordBackAndWritesItsReport()
    {
        var output = Directory.CreateTempSubdirectory("mesh-bench-smoke-").FullName;
        try
        {
            var (exitCode, log) = await MeshCommand.RunAsync(TimeSpan.FromMinutes(4),
                "bench", "--records", "600", "--per-message-records", "200", "--runs", "1", "--load", "300", "--load-seconds", "0.5", "--warm-up", "0", "--output", output);

            Assert.True(exitCode == 0, $"mesh bench exited {exitCode}:\n{log}");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "bench.json")));
            var scenarios = report.RootElement.GetProperty("scenarios").EnumerateArray().ToList();
            Assert.Equal(["fused", "mesh", "mesh-framed", "mesh-per-message"], scenarios.Select(s => s.GetProperty("name").GetString()));
            foreach (var run in scenarios.SelectMany(s => s.GetProperty("runs").EnumerateArray()))
            {
                var saturation = run.GetProperty("saturation");
                Assert.Equal(saturation.GetProperty("sent").GetInt32(), saturation.GetProperty("received").GetInt32());
                Assert.All(run.GetProperty("loads").EnumerateArray(), l =>
                    Assert.Equal(l.GetProperty("result").GetProperty("sent").GetInt32(), l.GetProperty("result").GetProperty("received").GetInt32()));
            }

            Assert.Contains("| mesh-per-message |", await File.ReadAllTextAsync(Path.Combine(output, "bench.md")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
