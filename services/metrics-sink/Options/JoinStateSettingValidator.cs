using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Options;

/// <summary>Refuses a Redis join state that cannot work: no connection string, a join other than by request id, or keys that expire before their expiry is decided.</summary>
internal sealed class JoinStateSettingValidator : IValidateOptions<MetricsSinkOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsSinkOptions options)
    {
        if (options.JoinState != "Redis")
        {
            return ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            return ValidateOptionsResult.Fail("MetricsSink:JoinState=Redis needs MetricsSink:Redis, a StackExchange.Redis configuration string (e.g. localhost:6379).");
        }

        if (options.JoinBy != JoinBy.RequestId)
        {
            return ValidateOptionsResult.Fail("MetricsSink:JoinState=Redis joins by request id only: set MetricsSink:JoinBy=RequestId or MetricsSink:JoinState=Memory.");
        }

        // Expiries run every flush, after the window; the key must still be there when they ask Redis.
        return options.JoinKeyTtlMarginSeconds * 1000L >= 2L * options.FlushIntervalMs
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"MetricsSink:JoinKeyTtlMarginSeconds ({options.JoinKeyTtlMarginSeconds}) must cover two MetricsSink:FlushIntervalMs ({options.FlushIntervalMs} ms) with MetricsSink:JoinState=Redis.");
    }
}
