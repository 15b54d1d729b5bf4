using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Aggregation;

internal static class JoinStateExtensions
{
    /// <summary>
    /// With <c>MetricsSink:JoinState=Redis</c>: the joiner's records also go to Redis (<see cref="RedisJoinState"/>),
    /// through the connection <c>MetricsSink:Redis</c> configures. Otherwise: nothing, the join stays in memory.
    /// </summary>
    public static IHostApplicationBuilder AddJoinState(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidateOptions<MetricsSinkOptions>, JoinStateSettingValidator>();
        var section = builder.Configuration.GetSection(MetricsSinkOptions.SectionName);
        if (section["JoinState"] != "Redis" || string.IsNullOrWhiteSpace(section["Redis"]) || (section["JoinBy"] ?? "RequestId") != "RequestId")
        {
            // A Redis join state without a connection string, or joining by entity and time, is refused at start by the validator.
            return builder;
        }

        // The IConnectionMultiplexer is the one AddBanditRewards registers for MetricsSink:Redis.
        builder.Services.AddSingleton(sp => new RedisJoinState(
            sp.GetRequiredService<PredictionLabelJoiner>(),
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<MetricsSinkOptions>>(),
            sp.GetRequiredService<ILogger<RedisJoinState>>(),
            sp.GetRequiredService<MetricsSinkTelemetry>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RedisJoinState>());
        return builder;
    }

    private sealed class JoinStateSettingValidator : IValidateOptions<MetricsSinkOptions>
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

            if (options.JoinBy != "RequestId")
            {
                return ValidateOptionsResult.Fail("MetricsSink:JoinState=Redis joins by request id only: set MetricsSink:JoinBy=RequestId or MetricsSink:JoinState=Memory.");
            }

            // Expiries run every flush, after the window; the key must still be there when they ask Redis.
            return options.JoinKeyTtlMarginSeconds * 1000L >= 2L * options.FlushIntervalMs
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"MetricsSink:JoinKeyTtlMarginSeconds ({options.JoinKeyTtlMarginSeconds}) must cover two MetricsSink:FlushIntervalMs ({options.FlushIntervalMs} ms) with MetricsSink:JoinState=Redis.");
        }
    }
}
