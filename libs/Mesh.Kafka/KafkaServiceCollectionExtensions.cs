using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Kafka;

public static class KafkaServiceCollectionExtensions
{
    /// <summary>
    /// Binds and validates <see cref="KafkaOptions"/> (section <c>Kafka</c>) at start, and registers the
    /// <see cref="KafkaClientFactory"/>.
    /// </summary>
    public static IHostApplicationBuilder AddMeshKafka(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KafkaOptions>()
            .BindConfiguration(KafkaOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Topics.All.Distinct(StringComparer.Ordinal).Count() == o.Topics.All.Count,
                "Kafka:Topics: every mesh topic must have a distinct name.")
            .ValidateOnStart();
        builder.Services.AddSingleton<KafkaClientFactory>();
        return builder;
    }
}
