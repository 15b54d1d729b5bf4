using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mesh.ServiceDefaults.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Mesh.ServiceDefaults;

/// <summary>
/// What every Mesh service has: OpenTelemetry traces, metrics and logs (OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and only then spans per HTTP request and outgoing call),
/// Prometheus <c>/metrics</c>, <c>/health</c> and <c>/alive</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Name prefix of every Mesh <c>ActivitySource</c> and <c>Meter</c>.</summary>
    public const string TelemetryPrefix = "Mesh.";

    private const string LiveTag = "live";

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        // A console line written inside a span ends with its TraceId and SpanId (the activity scope), so a line in
        // `kubectl logs` leads to its trace; the OpenTelemetry log records carry them as fields.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        var exporting = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            // A log written inside a span (a record's, a batch call's) carries its trace and span ids.
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            if (exporting)
            {
                logging.AddOtlpExporter();
            }
        });

        builder.Services.AddSingleton<SpanExportTelemetry>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: Environment.MachineName + "-" + Environment.ProcessId))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix + "*")
                .AddPrometheusExporter())
            .WithMetrics(metrics =>
            {
                if (exporting)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithTracing(tracing =>
            {
                // The mesh's own spans are always recorded: the router carries their trace context from each
                // FeatureRecord into its Prediction, exported or not.
                tracing.AddSource(TelemetryPrefix + "*");
                if (exporting)
                {
                    // A span per HTTP request and per outgoing call costs each request several microseconds (about
                    // a tenth of a single-row inference call on 2 cores); without an exporter nobody would see them.
                    tracing
                        .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                            !context.Request.Path.StartsWithSegments("/health") &&
                            !context.Request.Path.StartsWithSegments("/alive") &&
                            !context.Request.Path.StartsWithSegments("/metrics"))
                        .AddGrpcClientInstrumentation()
                        .AddHttpClientInstrumentation()
                        .AddProcessor(CreateSpanExport);
                }
            });

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// The OTLP span export: the SDK's batch processor and OTLP exporter (settings from the standard
    /// <c>OTEL_EXPORTER_OTLP_*</c> and <c>OTEL_BSP_*</c> variables), behind a gate that counts every span the full
    /// queue has to drop (at 200 records/s spans went missing with nothing saying so).
    /// </summary>
    private static GatedBatchActivityExportProcessor CreateSpanExport(IServiceProvider services)
    {
        // The SDK's own options factories: bound from the host's configuration, environment variables included.
        var batch = services.GetRequiredService<IOptionsMonitor<BatchExportActivityProcessorOptions>>().Get(Options.DefaultName);
        var otlp = services.GetRequiredService<IOptionsMonitor<OtlpExporterOptions>>().Get(Options.DefaultName);
        var gate = new SpanExportGate(batch.MaxQueueSize, services.GetRequiredService<SpanExportTelemetry>());
        return new GatedBatchActivityExportProcessor(
            new GatedOtlpTraceExporter(otlp, gate),
            gate,
            batch.MaxQueueSize,
            batch.ScheduledDelayMilliseconds,
            batch.ExporterTimeoutMilliseconds,
            batch.MaxExportBatchSize);
    }

    /// <summary>Maps <c>/health</c> (every check), <c>/alive</c> (liveness only) and <c>/metrics</c> (Prometheus).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        // Made now, so the dropped-span count is on /metrics at 0 from the start, exporting or not.
        app.Services.GetRequiredService<SpanExportTelemetry>();
        return app;
    }
}
