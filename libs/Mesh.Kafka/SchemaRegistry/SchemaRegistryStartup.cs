using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// At start, when a registry is configured: registers (or looks up) the schemas of the topics this service writes
/// (whether it answers at all was asked when the options were validated: <see cref="SchemaRegistryReachableValidator"/>).
/// A registry that does not answer is a configuration error naming <c>Kafka:SchemaRegistry:Url</c> (the service exits
/// 78); a refused schema stops the writer before it writes anything.
/// </summary>
internal sealed class SchemaRegistryStartup(
    WireFormatWriter writer,
    IOptions<SchemaRegistryOptions> options,
    IReadOnlyList<MeshSchema> written,
    ILogger<SchemaRegistryStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        try
        {
            foreach (var schema in written)
            {
                var registered = await writer.RegisterAsync(schema, cancellationToken).ConfigureAwait(false);
                logger.LogInformation("Topic {Topic} values are framed with schema id {SchemaId} ({Subject} version {Version}).",
                    schema.Topic, registered.Id, registered.Subject, registered.Version);
            }
        }
        catch (Exception e) when (e is not SchemaRegistrationException && !cancellationToken.IsCancellationRequested)
        {
            throw new OptionsValidationException(SchemaRegistryOptions.SectionName, typeof(SchemaRegistryOptions), [options.Value.DidNotAnswer(e)]);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
