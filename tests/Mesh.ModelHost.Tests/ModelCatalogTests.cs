using System.Diagnostics.Metrics;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Mesh.ModelHost.Tests.Onnx;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.ModelHost.Tests;

/// <summary>The catalog's answers as versions load, fail and are swapped: readiness, and which versions serve.</summary>
[Collection(ModelHostCollection.Name)]
public sealed class ModelCatalogTests(ModelHostFixture host) : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task IsReady_FirstVersionFailedThenALaterOneLoads_TurnsReadyAndHealthy()
    {
        using var catalog = new ModelCatalog(Telemetry(), NullLogger<ModelCatalog>.Instance);
        var health = new ModelsReadyHealthCheck(catalog);

        catalog.PublishFailure("swapped", "1", "model.onnx is not an ONNX model");
        catalog.CompleteLoading("the test");
        var before = (catalog.IsReady, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        catalog.Publish("swapped", "2", Load("swapped", "2"));
        var after = (catalog.IsReady, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        Assert.Equal((false, HealthStatus.Unhealthy), before);
        Assert.Equal((true, HealthStatus.Healthy), after);
    }

    private ModelHostTelemetry Telemetry() => new(_services.GetRequiredService<IMeterFactory>());

    private ServedModel Load(string name, string version)
    {
        var options = new ModelHostOptions();
        return ServedModel.Load(name, version, Path.Combine(host.Repository, TestModels.MatMulSoftmax, "1"), options.DefaultSessionSettings(), options.Batching.ToSettings(), Telemetry());
    }
}
