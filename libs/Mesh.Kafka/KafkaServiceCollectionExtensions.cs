using Mesh.Kafka.Health;
using Mesh.Kafka.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka;

public static class KafkaServiceCollectionExtensions
{
    /// <summary>
    /// Binds and validates <see cref="KafkaOptions"/> (section <c>Kafka</c>) at start, and registers the
    /// <see cref="KafkaClientFactory"/>, whose clients report to the <c>kafka</c> health check (not ready until
    /// connected and assigned, unhealthy during a lasting outage) and to a watchdog that ends the process when
    /// the cluster stays out of reach (see <see cref="KafkaHealthOptions"/>).
    /// </summary>
    public static IHostApplicationBuilder AddMeshKafka(this IHostApplicationBuilder builder)
    {
        // Registered once, even when a host is composed of several parts that each ask for Kafka.
        if (builder.Services.Any(d => d.ServiceType == typeof(KafkaHealth)))
        {
            return builder;
        }

        builder.Services.AddOptions<KafkaOptions>()
            .BindConfiguration(KafkaOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Topics.All.Distinct(StringComparer.Ordinal).Count() == o.Topics.All.Count,
                "Kafka:Topics: every mesh topic must have a distinct name.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaBootstrapValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<KafkaHealth>();
        builder.Services.AddSingleton<KafkaMetrics>();
        builder.Services.AddSingleton(sp => new KafkaClientFactory(
            sp.GetRequiredService<IOptions<KafkaOptions>>(),
            sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<KafkaHealth>(),
            sp.GetRequiredService<KafkaMetrics>()));
        builder.Services.AddHostedService<KafkaHealthWatchdog>();
        builder.Services.AddHealthChecks().AddCheck<KafkaHealthCheck>("kafka");
        return builder;
    }
}
