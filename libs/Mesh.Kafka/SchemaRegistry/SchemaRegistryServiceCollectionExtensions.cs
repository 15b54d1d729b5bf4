using Confluent.SchemaRegistry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka.SchemaRegistry;

public static class SchemaRegistryServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="SchemaRegistryOptions"/> (section <c>Kafka:SchemaRegistry</c>) and registers the
    /// <see cref="WireFormatWriter"/> and <see cref="WireFormatReader"/>. <paramref name="written"/> names the topics
    /// the service writes (e.g. <c>k =&gt; [new(k.Topics.Features, FeatureRecord.Descriptor)]</c>): their schemas are
    /// registered at start, so an incompatible change stops the writer before it writes.
    /// </summary>
    public static IHostApplicationBuilder AddMeshSchemaRegistry(this IHostApplicationBuilder builder, Func<KafkaOptions, IEnumerable<MeshSchema>>? written = null)
    {
        var services = builder.Services;
        services.AddOptions<SchemaRegistryOptions>()
            .BindConfiguration(SchemaRegistryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SchemaRegistryOptions>, SchemaRegistryOptionsValidator>();
        services.AddSingleton<IValidateOptions<SchemaRegistryOptions>, SchemaRegistryReachableValidator>();
        services.AddSingleton<ISchemaRegistryClient>(sp => new CachedSchemaRegistryClient(sp.GetRequiredService<IOptions<SchemaRegistryOptions>>().Value.ToClientConfig()));
        services.AddSingleton(sp => new WireFormatWriter(Client(sp), Options(sp), Stopping(sp)));
        services.AddSingleton(sp => new WireFormatReader(Client(sp), Options(sp), Stopping(sp)));
        services.AddHostedService(sp => new SchemaRegistryStartup(
            sp.GetRequiredService<WireFormatWriter>(),
            sp.GetRequiredService<IOptions<SchemaRegistryOptions>>(),
            [.. written?.Invoke(sp.GetRequiredService<IOptions<KafkaOptions>>().Value) ?? []],
            sp.GetRequiredService<ILogger<SchemaRegistryStartup>>()));
        return builder;
    }

    private static SchemaRegistryOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<SchemaRegistryOptions>>().Value;

    private static CancellationToken Stopping(IServiceProvider services) =>
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;

    private static ISchemaRegistryClient? Client(IServiceProvider services) =>
        Options(services).Enabled ? services.GetRequiredService<ISchemaRegistryClient>() : null;
}
