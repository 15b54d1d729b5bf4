using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Producer.Options;
using Mesh.Producer.Publishing;
using Mesh.Producer.Sources;
using Mesh.Producer.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Producer;

internal static class ProducerExtensions
{
    /// <summary>Registers the producer: validated options, Kafka, the Schema Registry wire format, telemetry and the publishing run.</summary>
    public static IHostApplicationBuilder AddProducer(this IHostApplicationBuilder builder)
    {
        builder.AddMeshKafka();
        // Before the publishing run: the schemas are registered (or the start refused) before a record is written.
        builder.AddMeshSchemaRegistry(k => [new(k.Topics.Features, FeatureRecord.Descriptor), new(k.Topics.Labels, Label.Descriptor)]);
        builder.Services.AddOptions<ProducerOptions>()
            .BindConfiguration(ProducerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProducerOptions>, ProducerOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<ProducerOptions>, DriftInjectionValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProducerTelemetry>();
        builder.Services.AddSingleton<PublishProgress>();
        builder.Services.AddHostedService<PublishWorker>();
        return builder;
    }
}
