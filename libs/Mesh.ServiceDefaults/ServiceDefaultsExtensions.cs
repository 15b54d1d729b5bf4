using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
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
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var exporting = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: Environment.MachineName + "-" + Environment.ProcessId))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix + "*")
                .AddPrometheusExporter())
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
                        .AddHttpClientInstrumentation();
                }
            });

        if (exporting)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>Maps <c>/health</c> (every check), <c>/alive</c> (liveness only) and <c>/metrics</c> (Prometheus).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
