using Mesh.Cli.Processes;

namespace Mesh.EndToEnd.Tests;

/// <summary>A service with a missing or malformed setting refuses to start and names the setting.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("model-host", "Mesh.ModelHost", "ModelHost__ModelRepository", "/nonexistent/models", "ModelHost:ModelRepository")]
    [InlineData("router", "Mesh.Router", "Router__ExperimentFile", "/nonexistent/experiments.yaml", "Router:ExperimentFile")]
    [InlineData("producer", "Mesh.Producer", "Producer__File", "/nonexistent/iris.csv", "Producer:File")]
    [InlineData("producer", "Mesh.Producer", "Producer__Rate", "-5", "Producer:Rate")]
    [InlineData("router", "Mesh.Router", "Router__Batching__MaxBatchSize", "0", "Router:Batching:MaxBatchSize")]
    [InlineData("metrics-sink", "Mesh.MetricsSink", "MetricsSink__FlushIntervalMs", "-1", "MetricsSink:FlushIntervalMs")]
    [InlineData("consumer", "Mesh.Consumer", "Consumer__GroupId", "", "Consumer:GroupId")]
    public async Task Service_BadSetting_ExitsNonZeroNamingTheSetting(string folder, string assembly, string key, string value, string expectedName)
    {
        await using var service = Services.Start(folder, assembly, new Dictionary<string, string>
        {
            [key] = value,
            ["Urls"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            // Never reached: validation fails before any Kafka client is made.
            ["Kafka__BootstrapServers"] = "127.0.0.1:9",
        });

        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(78, exitCode);
        Assert.Contains("error: invalid configuration", service.Output, StringComparison.Ordinal);
        Assert.Contains(expectedName, service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Router_ExperimentWithZeroWeight_ExitsNamingTheField()
    {
        var spec = Path.GetTempFileName();
        await File.WriteAllTextAsync(spec, """
            experiments:
              - name: broken
                strategy: ab
                arms:
                  - name: a
                    weight: 0
                    endpoint: http://127.0.0.1:9
                    model: m
            """);
        try
        {
            await using var service = Services.Start("router", "Mesh.Router", new Dictionary<string, string>
            {
                ["Router__ExperimentFile"] = spec,
                ["Urls"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
                ["Kafka__BootstrapServers"] = "127.0.0.1:9",
            });

            Assert.Equal(78, await service.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("experiments[0].arms[0].weight", service.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(spec);
        }
    }
}
