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
        // Both join states trace their joins: in memory the consume loop, with Redis the batch that decided them.
        builder.Services.AddSingleton(sp => new JoinTracer(sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.GroupId));
        var section = builder.Configuration.GetSection(MetricsSinkOptions.SectionName);
        var joinBy = section["JoinBy"];
        if (section["JoinState"] != "Redis" || string.IsNullOrWhiteSpace(section["Redis"])
            || (joinBy is not null && !string.Equals(joinBy.Trim(), nameof(JoinBy.RequestId), StringComparison.OrdinalIgnoreCase)))
        {
            // A Redis join state without a connection string, or joining by entity and time, is refused at start by the validator.
            return builder;
        }

        // The IConnectionMultiplexer is the one AddBanditRewards registers for MetricsSink:Redis.
        builder.Services.AddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<IConnectionMultiplexer>();
            return new SharedJoinQueue(() => redis.IsConnected, sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.MaxPending);
        });
        builder.Services.AddSingleton(sp => new RedisJoinState(
            sp.GetRequiredService<SharedJoinQueue>(),
            sp.GetRequiredService<PredictionLabelJoiner>(),
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<MetricsSinkOptions>>(),
            sp.GetRequiredService<ILogger<RedisJoinState>>(),
            sp.GetRequiredService<MetricsSinkTelemetry>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<JoinTracer>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RedisJoinState>());
        return builder;
    }
}
