using Mesh.Kafka;
using Mesh.Producer.Options;
using Mesh.Producer.Publishing;
using Mesh.Producer.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Producer;

internal static class ProducerExtensions
{
    /// <summary>Registers the producer: validated options, Kafka, telemetry and the publishing run.</summary>
    public static IHostApplicationBuilder AddProducer(this IHostApplicationBuilder builder)
    {
        builder.AddMeshKafka();
        builder.Services.AddOptions<ProducerOptions>()
            .BindConfiguration(ProducerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProducerOptions>, ProducerOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProducerTelemetry>();
        builder.Services.AddSingleton<PublishProgress>();
        builder.Services.AddHostedService<PublishWorker>();
        return builder;
    }
}
