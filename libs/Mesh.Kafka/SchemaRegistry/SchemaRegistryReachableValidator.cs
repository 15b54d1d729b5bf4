using Confluent.SchemaRegistry;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// Asks a configured registry for its compatibility level when the options are validated at start, so a registry
/// that does not answer is refused as a configuration error naming <c>Kafka:SchemaRegistry:Url</c> before the host
/// starts (one line and exit 78, not the host's start failure with its stack trace). Its own client: the service's
/// is built from these very options.
/// </summary>
internal sealed class SchemaRegistryReachableValidator : IValidateOptions<SchemaRegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, SchemaRegistryOptions options)
    {
        // A malformed setting is reported by SchemaRegistryOptionsValidator; there is nothing to ask.
        if (!options.Enabled || options.Validate() is not null)
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            using var client = new CachedSchemaRegistryClient(options.ToClientConfig());
            client.GetCompatibilityAsync(null).GetAwaiter().GetResult();
            return ValidateOptionsResult.Success;
        }
        catch (Exception e)
        {
            return ValidateOptionsResult.Fail(options.DidNotAnswer(e));
        }
    }
}
