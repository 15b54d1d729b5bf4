using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Promotion;
using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Verdicts;
using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Tracking;

internal static partial class TrackingExtensions
{
    /// <summary>
    /// Registers outcome tracking: MLflow when <c>MLFLOW_TRACKING_URI</c> is set (MLflow's own variables, read
    /// from configuration so tests and the command line can set them too), else the local tracking folder
    /// (<c>MetricsSink:TrackingDir</c>/mlruns); the background writer, the sequential test and the window service.
    /// </summary>
    public static IHostApplicationBuilder AddOutcomeTracking(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidateOptions<MetricsSinkOptions>>(new MlflowEnvironmentValidator(builder.Configuration));
        var mlflow = ReadMlflowOptions(builder.Configuration);
        if (mlflow?.TrackingUri is not null)
        {
            // The client applies its own per-request timeout (MLFLOW_HTTP_REQUEST_TIMEOUT).
            builder.Services.AddSingleton(_ => new MlflowClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, mlflow));
        }

        builder.Services.AddSingleton<IMlflowTracking>(sp =>
        {
            if (sp.GetService<MlflowClient>() is { } client)
            {
                // A real MLflow has the registry too: each arm's run is tagged with its model version's training run.
                return new ModelRunTagger(new MlflowTrackingClient(client), client.GetModelVersionAsync, sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<ModelRunTagger>>());
            }

            return new LocalTrackingStore(sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value.ResolveTrackingDir(), sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<TrackingWriter>();
            var sink = sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value;
            var stale = TimeSpan.FromSeconds(sink.RunStaleSeconds);
            return new TrackingWriter(sp.GetRequiredService<IMlflowTracking>(), new TrackingWriterOptions
            {
                Capacity = sink.TrackingBufferSize,
                // Each start writes runs of its own (a second demo does not append to the first's), ends them when
                // it stops, and ends KILLED what a start that died left RUNNING: its own earlier life at once, another
                // sink's once its heartbeat is stale (a sink scaled out beside this one is alive and keeps its runs).
                StartId = Guid.NewGuid().ToString("N"),
                InstanceId = InstanceId(sink, builder.Configuration),
                HeartbeatInterval = stale / 5,
                StaleAfter = stale,
                Time = sp.GetRequiredService<TimeProvider>(),
                OnError = (e, retrying) => LogWriteFailed(logger, retrying ? "keeping the records and retrying" : "dropping the records MLflow refused", e.Message),
                OnRecovered = () => LogRecovered(logger),
            });
        });
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MetricsSinkOptions>>().Value;
            return new SequentialAccuracyTest(o.VerdictAlpha, o.VerdictEffectSize, o.VerdictMinJoined);
        });
        builder.Services.AddOptions<PromotionOptions>()
            .BindConfiguration("MetricsSink")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new RegisteredModelNames(sp.GetRequiredService<IOptions<PromotionOptions>>().Value));
        builder.Services.AddSingleton<ModelPromoter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelPromoter>());
        builder.Services.AddSingleton(sp => new RunLinks(
            sp.GetRequiredService<TrackingWriter>(),
            RunLinks.UiOf(sp.GetRequiredService<IOptions<Page.PageOptions>>().Value.TrackingUiUrl, mlflow?.TrackingUri)));
        builder.Services.AddSingleton<WindowCloser>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WindowCloser>());
        return builder;
    }

    // Kubernetes sets HOSTNAME to the pod's name, unique among live pods and kept across a container's restarts;
    // outside a pod a host name is shared by every process on the machine, so it identifies no one.
    private static string? InstanceId(MetricsSinkOptions options, IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(options.InstanceId) ? options.InstanceId.Trim()
        : !string.IsNullOrEmpty(configuration["KUBERNETES_SERVICE_HOST"]) && configuration["HOSTNAME"] is { Length: > 0 } pod ? pod
        : null;

    // A malformed variable is reported by the validator at start, naming it; here it only means "no server".
    private static MlflowClientOptions? ReadMlflowOptions(IConfiguration configuration)
    {
        try
        {
            return MlflowClientOptions.FromEnvironment(key => configuration[key]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Writing to the tracker failed, {Action}: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string action, string reason);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "Writing to the tracker again")]
    private static partial void LogRecovered(ILogger logger);
}
