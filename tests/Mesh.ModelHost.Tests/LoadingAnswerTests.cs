namespace Mesh.ModelHost.Tests;

/// <summary>
/// The host listens before its repository is loaded. A router whose call lands in that window must hear "try again"
/// (UNAVAILABLE: it holds the batch), not "no such model" (NOT_FOUND: its circuit opens and records are dead-lettered),
/// as seen in a chaos run when a restarted host answered NOT_FOUND for about 20 ms.
/// </summary>
public sealed class LoadingAnswerTests
{
    [Fact]
    public void FindSlot_BeforeTheRepositoryIsLoaded_UnavailableNamingTheLoad_AfterItNotFound()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var telemetry = new ModelHostTelemetry(services.GetRequiredService<IMeterFactory>());
        var options = Microsoft.Extensions.Options.Options.Create(new ModelHostOptions());
        using var catalog = new ModelCatalog(telemetry, options, NullLogger<ModelCatalog>.Instance);
        var core = new InferenceCore(catalog, telemetry, options, NullLogger<InferenceCore>.Instance);

        var loading = Assert.Throws<InferenceException>(() => core.FindSlot("iris-logreg", "1"));
        Assert.Equal(StatusCode.Unavailable, loading.Code);
        Assert.Contains("still loading", loading.Message, StringComparison.Ordinal);

        catalog.CompleteLoading("the test's empty repository");

        var missing = Assert.Throws<InferenceException>(() => core.FindSlot("iris-logreg", "1"));
        Assert.Equal(StatusCode.NotFound, missing.Code);
        Assert.Contains("is not served here", missing.Message, StringComparison.Ordinal);
    }
}
