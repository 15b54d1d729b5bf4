namespace Mesh.EndToEnd.Tests;

/// <summary>The Aspire dashboard's links (each resource's endpoints) point at the ports the services really listen on.</summary>
public sealed class AppHostEndpointTests
{
    [Fact]
    public async Task ModelHost_EveryDashboardEndpoint_IsAPortItsKestrelListensOn()
    {
        var state = Directory.CreateTempSubdirectory("mesh-apphost-model-");
        try
        {
            // The stack checks that a model repository exists; the model is never loaded here.
            var model = Directory.CreateDirectory(Path.Combine(state.FullName, "models", "iris-logreg", "1"));
            await File.WriteAllBytesAsync(Path.Combine(model.FullName, "model.onnx"), [0]);
            await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Mesh_AppHost>(
                [$"--Mesh:StateDir={state.FullName}", $"--Mesh:ModelRepository={Path.Combine(state.FullName, "models")}"]);
            var modelHost = (IResourceWithEnvironment)builder.Resources.Single(r => r.Name == "model-host");
            // The one call that evaluates a resource's environment as a run would without starting it; its replacement
            // (ExecutionConfigurationBuilder) needs a running application's services.
#pragma warning disable CS0618
            var environment = await modelHost.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618
            var listening = environment.Where(e => e.Key.StartsWith("Kestrel__Endpoints__", StringComparison.Ordinal) && e.Key.EndsWith("__Url", StringComparison.Ordinal))
                .Select(e => new Uri(e.Value).Port)
                .ToHashSet();

            var endpoints = modelHost.Annotations.OfType<EndpointAnnotation>().ToList();
            Assert.NotEmpty(endpoints);
            Assert.Equal(2, listening.Count);
            Assert.All(endpoints, e =>
            {
                Assert.False(e.IsProxied, $"endpoint {e.Name} is proxied from {e.Port} to a port the model host is not told to listen on");
                Assert.Equal(e.Port, e.TargetPort);
                Assert.Contains(e.TargetPort!.Value, listening);
            });
            Assert.Equal(listening.Order(), endpoints.Select(e => e.TargetPort!.Value).Distinct().Order());
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }
}
