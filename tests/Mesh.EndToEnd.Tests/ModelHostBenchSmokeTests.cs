namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Half a second per measurement of `mesh bench-model-host`: it starts the real model host twice, completes
/// and reports every batch size and both batching modes for both models with calls made, and replaces the
/// "## Model host" section of the docs file instead of adding a second one. No timing is asserted: figures
/// belong to the benchmark, not to a test.
/// </summary>
public sealed class ModelHostBenchSmokeTests
{
    [Fact]
    public async Task ModelHostBenchSmoke_TinyRun_ReportsEveryModelAndBatchSizeWithRequestsAndReplacesItsDocsSection()
    {
        var output = Directory.CreateTempSubdirectory("mesh-bench-model-host-smoke-").FullName;
        try
        {
            var docs = Path.Combine(output, "benchmarks.md");
            await File.WriteAllTextAsync(docs, "# Benchmarks\n\nkept\n\n## Model host\n\nstale figures\n\n## Later section\n\nalso kept\n");
            var (exitCode, log) = await MeshCommand.RunAsync(TimeSpan.FromMinutes(4),
                "bench-model-host", "--duration", "0.5", "--warmup", "0.1", "--callers", "8", "--output", output, "--docs", docs,
                // The large MLP takes longer per batch-256 call than a smoke run measures; the benchmark runs it.
                "--model", "iris-logreg", "--model", "bench-mlp");

            Assert.True(exitCode == 0, $"mesh bench-model-host exited {exitCode}:\n{log}");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "model-host-bench.json")));
            var models = report.RootElement.GetProperty("models").EnumerateArray().ToList();
            Assert.Equal(["iris-logreg", "bench-mlp"], models.Select(m => m.GetProperty("model").GetString()));
            Assert.All(models, model =>
            {
                var batchSizes = model.GetProperty("batchSizes").EnumerateArray().ToList();
                Assert.Equal([1, 16, 256], batchSizes.Select(b => b.GetProperty("batchSize").GetInt32()));
                Assert.All(batchSizes, b =>
                {
                    foreach (var side in new[] { "grpc", "inProcess", "grpcConcurrent", "inProcessConcurrent" })
                    {
                        Assert.True(b.GetProperty(side).GetProperty("requests").GetInt64() > 0, $"no {side} calls at batch {b.GetProperty("batchSize")} of {model.GetProperty("model")}");
                    }
                });
                var concurrency = model.GetProperty("concurrency");
                Assert.True(concurrency.GetProperty("batchingOn").GetProperty("requests").GetInt64() > 0);
                Assert.True(concurrency.GetProperty("batchingOff").GetProperty("requests").GetInt64() > 0);
            });

            Assert.Contains("| 256 |", await File.ReadAllTextAsync(Path.Combine(output, "model-host-bench.md")), StringComparison.Ordinal);
            var document = await File.ReadAllTextAsync(docs);
            Assert.StartsWith("# Benchmarks\n\nkept\n", document, StringComparison.Ordinal);
            Assert.Single(document.Split('\n'), line => line == "## Model host");
            Assert.DoesNotContain("stale figures", document, StringComparison.Ordinal);
            Assert.Contains("bench-mlp", document, StringComparison.Ordinal);
            Assert.EndsWith("## Later section\n\nalso kept\n", document, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task ModelHostBench_UnknownModel_StopsNamingTheModelsItHas()
    {
        await MeshCommand.AssertExitsSayingAsync(
            TimeSpan.FromMinutes(2),
            2,
            "--model names none of the benchmark's models (resnet); they are iris-logreg, bench-mlp and bench-mlp-large.",
            "bench-model-host", "--model", "resnet");
    }
}
