using Confluent.SchemaRegistry;
using Mesh.EmbeddedSchemaRegistry;
using Mesh.Kafka.SchemaRegistry;
using Microsoft.Extensions.Configuration;

namespace Mesh.Cli.Bench;

/// <summary>
/// The registry of the framed scenarios: a real one at a URL, with the auth settings the services read from the
/// environment (<c>Kafka__SchemaRegistry__BasicAuthUserInfo</c>, <c>..__BearerAuthToken</c>...: the router inherits
/// them), or <c>local</c>, the in-memory stand-in started in the benchmark's process (no registry runs here).
/// </summary>
internal sealed class BenchSchemaRegistry : IAsyncDisposable
{
    public const string Local = "local";

    private readonly StandInSchemaRegistry? _local;
    private readonly CachedSchemaRegistryClient _client;

    private BenchSchemaRegistry(StandInSchemaRegistry? local, SchemaRegistryOptions options)
    {
        _local = local;
        Options = options;
        _client = new CachedSchemaRegistryClient(options.ToClientConfig());
        WireFormat = new BenchWireFormat(BenchWireFormat.ConfluentName, new WireFormatWriter(_client, options), new WireFormatReader(_client, options));
    }

    public SchemaRegistryOptions Options { get; }

    public BenchWireFormat WireFormat { get; }

    /// <summary>What the report says about the registry.</summary>
    public string Description => _local is null ? Options.Url! : $"local (the in-memory stand-in in the benchmark's process, {Options.Url})";

    /// <summary>The settings for <paramref name="registry"/> (a URL or <c>local</c>), or the problem with them, naming the setting.</summary>
    public static (SchemaRegistryOptions? Options, string? Problem) Settings(string registry)
    {
        var options = new SchemaRegistryOptions();
        new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(SchemaRegistryOptions.SectionName).Bind(options);
        options.Url = registry == Local ? "http://127.0.0.1:1" : registry;
        return options.Validate() is { } problem
            ? (null, problem.Replace(SchemaRegistryOptions.SectionName + ":Url", "--schema-registry", StringComparison.Ordinal))
            : (options, null);
    }

    public static async Task<BenchSchemaRegistry> StartAsync(string registry, SchemaRegistryOptions options)
    {
        if (registry != Local)
        {
            return new BenchSchemaRegistry(null, options);
        }

        var local = await StandInSchemaRegistry.StartAsync().ConfigureAwait(false);
        options.Url = local.Url;
        // The stand-in has no authentication; credentials meant for a real registry must not be sent to it.
        options.BasicAuthUserInfo = null;
        options.BearerAuthCredentialsSource = null;
        return new BenchSchemaRegistry(local, options);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        if (_local is not null)
        {
            await _local.DisposeAsync().ConfigureAwait(false);
        }
    }
}
