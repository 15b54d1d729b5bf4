using Microsoft.Extensions.Options;

namespace Mesh.Kafka;

/// <summary>
/// Finds the cluster's address as part of validating <see cref="KafkaOptions"/> at start: with neither
/// <c>Kafka:BootstrapServers</c> nor the embedded broker's file, the service refuses to start with one line
/// naming the setting (before, the first client threw later and the process exited 0).
/// </summary>
internal sealed class KafkaBootstrapValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        if (options.Health.ExitAfterSeconds <= options.Health.UnhealthyAfterSeconds)
        {
            return ValidateOptionsResult.Fail(
                $"Kafka:Health:ExitAfterSeconds: must be greater than Kafka:Health:UnhealthyAfterSeconds ({options.Health.UnhealthyAfterSeconds}), got {options.Health.ExitAfterSeconds}.");
        }

        try
        {
            BootstrapResolver.Resolve(options);
            return ValidateOptionsResult.Success;
        }
        catch (InvalidOperationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
