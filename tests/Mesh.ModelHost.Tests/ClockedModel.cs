namespace Mesh.ModelHost.Tests;

/// <summary>
/// One model version of the fixture's repository served through the real inference core, under its own
/// name, with its batcher on a <see cref="ManualTimeProvider"/>: queue delays pass when the test says so.
/// </summary>
internal sealed class ClockedModel : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly ModelCatalog _catalog;

    public ClockedModel(string repository, string model, string servedName)
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var telemetry = new ModelHostTelemetry(_services.GetRequiredService<IMeterFactory>());
        var options = new ModelHostOptions();
        _catalog = new ModelCatalog(telemetry, Microsoft.Extensions.Options.Options.Create(options), NullLogger<ModelCatalog>.Instance);
        _catalog.Publish(servedName, "1", ServedModel.Load(
            servedName, "1", Path.Combine(repository, model, "1"), options.DefaultSessionSettings(), options.Batching.ToSettings(), telemetry, time: Clock));
        Core = new InferenceCore(_catalog, telemetry, Microsoft.Extensions.Options.Options.Create(options), NullLogger<InferenceCore>.Instance);
        Name = servedName;
    }

    public ManualTimeProvider Clock { get; } = new();

    public InferenceCore Core { get; }

    public string Name { get; }

    /// <summary>The meter factory of this model's telemetry, which a test listens to alone.</summary>
    public IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    /// <summary>Infers FP32 rows on input <c>x</c>; the request is queued when this returns.</summary>
    public Task<InferenceResult> InferAsync(string id, float[] rowMajor, int rows)
    {
        var input = new InputTensor("x", "FP32", [rows, rowMajor.Length / rows]);
        input.SetRaw(MemoryMarshal.AsBytes(rowMajor.AsSpan()).ToArray(), "raw_input_contents[0]");
        return Core.InferAsync(new InferenceRequest(Name, "", id, [input], []));
    }

    public void Dispose()
    {
        _catalog.Dispose();
        _services.Dispose();
    }
}
