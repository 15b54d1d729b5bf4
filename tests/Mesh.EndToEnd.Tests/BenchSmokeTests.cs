using System.Diagnostics;
using System.Text.Json;

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
            var info = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    Path.Combine(Repository.Root, "tools", "Mesh.Cli", "bin", Repository.Configuration, "net10.0", "mesh.dll"),
                    "bench", "--records", "600", "--per-message-records", "200", "--runs", "1", "--load", "300", "--load-seconds", "0.5",
                    "--configuration", Repository.Configuration, "--output", output,
                },
                WorkingDirectory = Repository.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var bench = Process.Start(info)!;
            var stdout = bench.StandardOutput.ReadToEndAsync();
            var stderr = bench.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            await bench.WaitForExitAsync(timeout.Token);
            var log = await stdout + await stderr;

            Assert.True(bench.ExitCode == 0, $"mesh bench exited {bench.ExitCode}:\n{log}");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "bench.json")));
            var scenarios = report.RootElement.GetProperty("scenarios").EnumerateArray().ToList();
            Assert.Equal(["fused", "mesh", "mesh-per-message"], scenarios.Select(s => s.GetProperty("name").GetString()));
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
