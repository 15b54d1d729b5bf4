using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Options;

/// <summary>Refuses a <c>MetricsSink:Redis</c> that is not a StackExchange.Redis configuration string.</summary>
internal sealed class RedisSettingValidator : IValidateOptions<MetricsSinkOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsSinkOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            ConfigurationOptions.Parse(options.Redis);
            return ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is ArgumentException or RedisConnectionException)
        {
            return ValidateOptionsResult.Fail($"MetricsSink:Redis is not a Redis configuration string: {e.Message}");
        }
    }
}
