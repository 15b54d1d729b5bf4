using Mesh.Kafka;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Promotion;
using Mesh.MetricsSink.Summary;
using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Drift;

internal static class DriftExtensions
{
    /// <summary>
    /// Registers drift watching (<c>MetricsSink:Drift</c>): the monitor, with reference profiles from
    /// <c>MetricsSink:Drift:ModelRepository</c> then MLflow (when a tracking server is configured), the window reporter,
    /// the gauges, and the alerts topic (<c>MetricsSink:AlertsTopic</c>).
    /// </summary>
    public static IHostApplicationBuilder AddDrift(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DriftOptions>()
            .BindConfiguration(DriftOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Features.Values.All(t => t > 0 && double.IsFinite(t)), "MetricsSink:Drift:Features: every per-feature PSI threshold must be a positive number.")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DriftOptions>>().Value;
            var sources = new List<IReferenceProfileSource>();
            if (!string.IsNullOrWhiteSpace(options.ModelRepository))
            {
                sources.Add(new FolderReferenceProfiles(Path.GetFullPath(options.ModelRepository, Directory.GetCurrentDirectory())));
            }

            if (sp.GetService<MlflowClient>() is { } client)
            {
                sources.Add(new MlflowReferenceProfiles(client, sp.GetRequiredService<RegisteredModelNames>()));
            }

            return new DriftMonitor(sources, options, sp.GetRequiredService<ILogger<DriftMonitor>>());
        });
        builder.Services.AddSingleton<IDriftSummaries>(sp => sp.GetRequiredService<DriftMonitor>());
        builder.Services.AddSingleton<DriftTelemetry>();
        builder.Services.AddSingleton<IDriftAlertSink>(sp => new KafkaDriftAlertSink(sp.GetRequiredService<KafkaClientFactory>(),
            sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.AlertsTopic, sp.GetRequiredService<ILogger<KafkaDriftAlertSink>>()));
        builder.Services.AddSingleton<DriftReporter>();
        return builder;
    }
}
