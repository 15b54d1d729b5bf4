namespace Mesh.EndToEnd.Tests;

/// <summary>A service with a missing or malformed setting refuses to start and names the setting.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("model-host", "Mesh.ModelHost", "ModelHost__ModelRepository", "/nonexistent/models", "ModelHost:ModelRepository")]
    [InlineData("router", "Mesh.Router", "Router__ExperimentFile", "/nonexistent/experiments.yaml", "Router:ExperimentFile")]
    [InlineData("producer", "Mesh.Producer", "Producer__File", "/nonexistent/iris.csv", "Producer:File")]
    [InlineData("producer", "Mesh.Producer", "Producer__Rate", "-5", "Producer:Rate")]
    public async Task Service_BadSetting_ExitsNonZeroNamingTheSetting(string folder, string assembly, string key, string value, string expectedName)
    {
        await using var service = ServiceProcess.Start(folder, assembly, new Dictionary<string, string>
        {
            [key] = value,
            ["Urls"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            // Never reached: validation fails before any Kafka client is made.
            ["Kafka__BootstrapServers"] = "127.0.0.1:9",
        });

        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(expectedName, service.Output, StringComparison.Ordinal);
    }
}
