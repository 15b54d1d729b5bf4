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
            ["Urls"] = LoopbackPorts.Url(0),
            ["Kestrel__Endpoints__Http__Url"] = LoopbackPorts.Url(0),
            ["Kestrel__Endpoints__Grpc__Url"] = LoopbackPorts.Url(0),
            // Never reached: validation fails before any Kafka client is made.
            ["Kafka__BootstrapServers"] = "127.0.0.1:9",
        });

        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(78, exitCode);
        Assert.Contains("error: invalid configuration", service.Output, StringComparison.Ordinal);
        Assert.Contains(expectedName, service.Output, StringComparison.Ordinal);
        AssertOneLineRefusal(service.Output, expectedName);
    }

    [Theory]
    [InlineData("router", "Mesh.Router", "Router__Batching__MaxBatchSize", "abc", "Router:Batching:MaxBatchSize: 'abc' is not a whole number")]
    [InlineData("producer", "Mesh.Producer", "Producer__Rate", "abc", "Producer:Rate: 'abc' is not")]
    public async Task Service_SettingOfTheWrongType_Exits78WithOneLineNamingTheSetting(string folder, string assembly, string key, string value, string expected)
    {
        await using var service = Services.Start(folder, assembly, new Dictionary<string, string>
        {
            [key] = value,
            ["Urls"] = LoopbackPorts.Url(0),
            ["Kafka__BootstrapServers"] = "127.0.0.1:9",
        });

        Assert.Equal(78, await service.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        AssertOneLineRefusal(service.Output, expected);
    }

    [Fact]
    public async Task Consumer_NoBootstrapServersAndNoBrokerFile_Exits78NamingKafkaBootstrapServers()
    {
        await using var service = Services.Start("consumer", "Mesh.Consumer", new Dictionary<string, string>
        {
            ["Urls"] = LoopbackPorts.Url(0),
            ["Kafka__BootstrapFile"] = "/nonexistent/bootstrap.servers",
            ["Kafka__BootstrapWaitSeconds"] = "0",
        });

        Assert.Equal(78, await service.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        AssertOneLineRefusal(service.Output, "Kafka:BootstrapServers: not set");
    }

    [Fact]
    public async Task Consumer_NoBrokerAnswersAtStart_Exits78NamingKafkaBootstrapServersInsteadOfRetryingForEver()
    {
        await using var service = Services.Start("consumer", "Mesh.Consumer", new Dictionary<string, string>
        {
            ["Urls"] = LoopbackPorts.Url(0),
            // Nothing listens on the discard port here: connections are refused.
            ["Kafka__BootstrapServers"] = "127.0.0.1:9",
            ["Kafka__BootstrapWaitSeconds"] = "3",
        });

        Assert.Equal(78, await service.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("error: invalid configuration, the service did not start: Kafka:BootstrapServers: no broker answered", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_OutsideTheRepository_Exits78WithOneLine()
    {
        var folder = Directory.CreateTempSubdirectory("mesh-outside-");
        try
        {
            var info = new System.Diagnostics.ProcessStartInfo("dotnet")
            {
                WorkingDirectory = folder.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            info.ArgumentList.Add(Path.Combine(Repository.Root, "tools", "Mesh.Cli", "bin", Repository.Configuration, "net10.0", "mesh.dll"));
            info.ArgumentList.Add("demo");
            using var mesh = System.Diagnostics.Process.Start(info)!;
            var output = await mesh.StandardOutput.ReadToEndAsync() + await mesh.StandardError.ReadToEndAsync();
            await mesh.WaitForExitAsync();

            Assert.Equal(78, mesh.ExitCode);
            AssertOneLineRefusal(output, "Run this from inside the Mesh repository");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    // The refusal is the line naming the setting, and no stack trace or framework wording comes with it.
    private static void AssertOneLineRefusal(string output, string expected)
    {
        var errors = output.Split('\n').Where(l => l.Contains(expected, StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.StartsWith("error: ", errors[0].TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain("DataAnnotation validation failed", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
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
                ["Urls"] = LoopbackPorts.Url(0),
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
