using Mesh.MetricsSink.Options;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Rewards;

internal static class RewardExtensions
{
    /// <summary>With <c>MetricsSink:Redis</c> set: bandit rewards written to Redis every flush. Without it: nothing.</summary>
    public static IHostApplicationBuilder AddBanditRewards(this IHostApplicationBuilder builder)
    {
        var redis = builder.Configuration[MetricsSinkOptions.SectionName + ":Redis"];
        if (string.IsNullOrWhiteSpace(redis))
        {
            return builder;
        }

        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var configuration = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.Redis!);
            // Redis away at start must not stop the sink: rewards wait and reconnecting happens in the background.
            configuration.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(configuration);
        });
        builder.Services.AddHostedService<BanditRewardWriter>();
        return builder;
    }
}
