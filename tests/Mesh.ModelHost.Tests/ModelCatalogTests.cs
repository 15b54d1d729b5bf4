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
        using var catalog = Catalog(retainPreviousVersions: 1);
        var health = new ModelsReadyHealthCheck(catalog);

        catalog.PublishFailure("swapped", "1", "model.onnx is not an ONNX model");
        catalog.CompleteLoading("the test");
        var before = (catalog.IsReady, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        catalog.Publish("swapped", "2", Load("swapped", "2"));
        var after = (catalog.IsReady, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        Assert.Equal((false, HealthStatus.Unhealthy), before);
        Assert.Equal((true, HealthStatus.Healthy), after);
    }

    [Fact]
    public void Publish_NewVersions_KeepsTheRetainedEarlierVersionServingUntilPushedOutOrUnloaded()
    {
        using var catalog = Catalog(retainPreviousVersions: 1);

        catalog.Publish("pinned", "1", Load("pinned", "1"));
        catalog.Publish("pinned", "2", Load("pinned", "2"));
        var afterSecond = (Serves(catalog, "pinned", "1"), Serves(catalog, "pinned", "2"), Default(catalog, "pinned"));
        catalog.Publish("pinned", "3", Load("pinned", "3"));
        var afterThird = (Serves(catalog, "pinned", "1"), Serves(catalog, "pinned", "2"), Default(catalog, "pinned"));
        var servedAfterThird = catalog.VersionsOf("pinned");
        var unloadDefault = catalog.Unload("pinned", "3");
        var unloadPinned = catalog.Unload("pinned", "2");

        Assert.Equal((true, true, "2"), afterSecond);
        Assert.Equal(["2", "3"], servedAfterThird);
        Assert.Equal((false, true, "3"), afterThird);
        Assert.Equal(UnloadOutcome.DefaultVersion, unloadDefault);
        Assert.Equal(UnloadOutcome.Unloaded, unloadPinned);
        Assert.Equal(["3"], catalog.VersionsOf("pinned"));
    }

    [Fact]
    public void Publish_RetainNoPreviousVersions_ReplacesTheVersion()
    {
        using var catalog = Catalog(retainPreviousVersions: 0);

        catalog.Publish("swapped", "1", Load("swapped", "1"));
        catalog.Publish("swapped", "2", Load("swapped", "2"));

        Assert.False(Serves(catalog, "swapped", "1"));
        Assert.Equal(["2"], catalog.VersionsOf("swapped"));
    }

    private static bool Serves(ModelCatalog catalog, string name, string version) =>
        catalog.TryFind(name, version, out var slot) && slot?.Model is not null;

    private static string? Default(ModelCatalog catalog, string name) =>
        catalog.TryFind(name, "", out var slot) ? slot?.Version : null;

    private ModelCatalog Catalog(int retainPreviousVersions) =>
        new(Telemetry(), Microsoft.Extensions.Options.Options.Create(new ModelHostOptions { RetainPreviousVersions = retainPreviousVersions }), NullLogger<ModelCatalog>.Instance);

    private ModelHostTelemetry Telemetry() => new(_services.GetRequiredService<IMeterFactory>());

    private ServedModel Load(string name, string version)
    {
        var options = new ModelHostOptions();
        return ServedModel.Load(name, version, Path.Combine(host.Repository, TestModels.MatMulSoftmax, "1"), options.DefaultSessionSettings(), options.Batching.ToSettings(), Telemetry());
    }
}
