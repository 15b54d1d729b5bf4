using Mesh.Consumer.Consuming;
using Mesh.Contracts.V1;
using Mesh.Consumer.Options;
using Mesh.Consumer.Output;
using Mesh.Consumer.Telemetry;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Mesh.Consumer;

internal static class ConsumerExtensions
{
    /// <summary>Registers the consumer: validated options, Kafka, the Schema Registry wire format, the output sink and the consume loop.</summary>
    public static IHostApplicationBuilder AddConsumer(this IHostApplicationBuilder builder)
    {
        builder.AddMeshKafka();
        // Reads framed and plain values alike; with a registry configured, the start checks that it answers.
        // Only dead letters are written: their schema is registered at start, not on the consume thread.
        builder.AddMeshSchemaRegistry(k => [new(k.Topics.DeadLetter, DeadLetter.Descriptor)]);
        builder.Services.AddOptions<ConsumerOptions>()
            .BindConfiguration(ConsumerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        if (ConsumerOptions.IsStdout(builder.Configuration[$"{ConsumerOptions.SectionName}:{nameof(ConsumerOptions.Output)}"])
            || string.Equals(builder.Configuration[$"{ConsumerOptions.SectionName}:{nameof(ConsumerOptions.Format)}"], "table", StringComparison.OrdinalIgnoreCase))
        {
            // Stdout carries the data (lines or the live table): logs must not be interleaved with it.
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => PredictionSinkFactory.Open(sp.GetRequiredService<IOptions<ConsumerOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<ConsumerTelemetry>();
        builder.Services.AddHostedService<PredictionConsumerWorker>();
        return builder;
    }
}
