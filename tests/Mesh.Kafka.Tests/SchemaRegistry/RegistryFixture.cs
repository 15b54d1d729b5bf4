namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>A fresh stand-in registry and Confluent's real client pointed at it, per test.</summary>
internal sealed class RegistryFixture : IAsyncDisposable
{
    private RegistryFixture(StandInSchemaRegistry registry, SchemaRegistryOptions options)
    {
        Registry = registry;
        Options = options;
        Client = new CachedSchemaRegistryClient(options.ToClientConfig());
        Writer = new WireFormatWriter(Client, options);
        Reader = new WireFormatReader(Client, options);
    }

    public StandInSchemaRegistry Registry { get; }

    public SchemaRegistryOptions Options { get; }

    public CachedSchemaRegistryClient Client { get; }

    public WireFormatWriter Writer { get; }

    public WireFormatReader Reader { get; }

    /// <param name="autoRegister">Whether writers register (or only look up).</param>
    /// <param name="unavailableRetryMs">How long a new registration or an uncached id's look-up waits for a registry that does not answer.</param>
    public static async Task<RegistryFixture> StartAsync(bool autoRegister = true, int unavailableRetryMs = 60_000)
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        return new RegistryFixture(registry, new SchemaRegistryOptions { Url = registry.Url, AutoRegister = autoRegister, MaxRetries = 1, UnavailableRetryMs = unavailableRetryMs });
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Registry.DisposeAsync();
    }
}
