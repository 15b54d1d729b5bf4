using System.Text.Json;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Half a second per measurement of `mesh bench-model-host`: it starts the real model host twice, completes
/// and reports every batch size and both batching modes with calls made. No timing is asserted: figures
/// belong to the benchmark, not to a test.
/// </summary>
public sealed class ModelHostBenchSmokeTests
{
    [Fact]
    public async Task ModelHostBenchSmoke_TinyRun_ReportsEveryBatchSizeWithRequestsAndWritesItsReport()
    {
        var output = Directory.CreateTempSubdirectory("mesh-bench-model-host-smoke-").FullName;
        try
        {
            var docs = Path.Combine(output, "benchmarks.md");
            await File.WriteAllTextAsync(docs, "# Benchmarks\n\nkept\n");
            var (exitCode, log) = await MeshCommand.RunAsync(TimeSpan.FromMinutes(4),
                "bench-model-host", "--duration", "0.5", "--warmup", "0.1", "--callers", "8", "--output", output, "--docs", docs);

            Assert.True(exitCode == 0, $"mesh bench-model-host exited {exitCode}:\n{log}");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "model-host-bench.json")));
            var batchSizes = report.RootElement.GetProperty("batchSizes").EnumerateArray().ToList();
            Assert.Equal([1, 16, 256], batchSizes.Select(b => b.GetProperty("batchSize").GetInt32()));
            Assert.All(batchSizes, b =>
            {
                Assert.True(b.GetProperty("grpc").GetProperty("requests").GetInt64() > 0, $"no gRPC calls at batch {b.GetProperty("batchSize")}");
                Assert.True(b.GetProperty("inProcess").GetProperty("requests").GetInt64() > 0, $"no in-process calls at batch {b.GetProperty("batchSize")}");
            });
            var concurrency = report.RootElement.GetProperty("concurrency");
            Assert.True(concurrency.GetProperty("batchingOn").GetProperty("requests").GetInt64() > 0);
            Assert.True(concurrency.GetProperty("batchingOff").GetProperty("requests").GetInt64() > 0);

            Assert.Contains("| 256 |", await File.ReadAllTextAsync(Path.Combine(output, "model-host-bench.md")), StringComparison.Ordinal);
            var document = await File.ReadAllTextAsync(docs);
            Assert.StartsWith("# Benchmarks\n\nkept\n", document, StringComparison.Ordinal);
            Assert.Contains("## Model host", document, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
