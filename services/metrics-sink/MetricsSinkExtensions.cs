using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Consuming;
using Mesh.MetricsSink.Drift;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Outcomes;
using Mesh.MetricsSink.Page;
using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Rewards;
using Mesh.MetricsSink.Telemetry;
using Mesh.MetricsSink.Tracking;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink;

internal static class MetricsSinkExtensions
{
    /// <summary>Registers the metrics sink: validated options, Kafka, the join state, the consume loop and the summary writer.</summary>
    public static IHostApplicationBuilder AddMetricsSink(this IHostApplicationBuilder builder)
    {
        builder.AddMeshKafka();
        // Reads framed and plain values alike; with a registry configured, the start checks that it answers.
        // Only dead letters are written: their schema is registered at start, not on the consume thread.
        builder.AddMeshSchemaRegistry(k => [new(k.Topics.DeadLetter, DeadLetter.Descriptor)]);
        builder.Services.AddOptions<MetricsSinkOptions>()
            .BindConfiguration(MetricsSinkOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetricsSinkOptions>, RedisSettingValidator>();
        builder.Services.AddSingleton<IValidateOptions<MetricsSinkOptions>, JoinStateSettingValidator>();
        builder.Services.AddSingleton<IValidateOptions<MetricsSinkOptions>, ExperimentFileValidator>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.ExperimentFile is { Length: > 0 } file
            ? OutcomeSpecReader.Read(file, out _) ?? OutcomeCatalog.Empty
            : OutcomeCatalog.Empty);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value;
            // The queue to Redis exists only with MetricsSink:JoinState=Redis (AddJoinState).
            return new PredictionLabelJoiner(sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(o.JoinWindowSeconds), o.MaxPending, o.JoinBy, sp.GetService<SharedJoinQueue>(), sp.GetRequiredService<OutcomeCatalog>());
        });
        builder.Services.AddSingleton(sp => new SummaryFileWriter(sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.ResolveTrackingDir()));
        builder.Services.AddSingleton<MetricsSinkTelemetry>();
        builder.Services.AddHostedService<SummaryFlushService>();
        // Between the two: hosted services stop in reverse, so the Redis join state drains after the consume loop stops.
        builder.AddJoinState();
        builder.Services.AddHostedService<MetricsConsumerWorker>();
        builder.AddDrift();
        builder.AddOutcomeTracking();
        builder.AddBanditRewards();
        builder.AddExperimentPage();
        return builder;
    }

    /// <summary>Maps <c>GET /api/summary</c>: the same JSON as <c>summary.json</c>, computed now.</summary>
    public static WebApplication MapMetricsSinkEndpoints(this WebApplication app)
    {
        app.MapGet("/api/summary", (PredictionLabelJoiner joiner, DriftMonitor drift, RunLinks links) =>
            Results.Text(SummaryJson.Serialize(links.WithRunUrls(joiner.Snapshot()) with { Drift = drift.Summaries() }), "application/json"));
        app.MapExperimentPage();
        return app;
    }
}
