using System.Threading.Channels;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Verdicts;
using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Promotion;

/// <summary>A winner the sequential test declared, with the model version its arm served.</summary>
internal sealed record PromotionRequest(string Experiment, string Arm, string Model, string Version, ExperimentVerdict Verdict);

/// <summary>
/// With <c>MetricsSink:PromoteWinner</c> on and MLflow configured: when an experiment's verdict names a winner
/// whose model version does not hold the champion alias yet, points the alias at it (the model hosts serving
/// <c>models:/name@champion</c> then swap to it) and tags the version with why. Off by default: moving
/// production traffic is a decision a team opts into. Runs in the background so the window service never waits
/// on the registry; each experiment's winner is promoted at most once per process.
/// </summary>
internal sealed partial class ModelPromoter(
    IServiceProvider services,
    IOptions<MetricsSinkOptions> options,
    TimeProvider time,
    ILogger<ModelPromoter> logger) : BackgroundService
{
    public const string AuditTag = "mesh.promotion";

    private readonly Channel<PromotionRequest> _requests = Channel.CreateBounded<PromotionRequest>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly HashSet<(string Experiment, string Model, string Version)> _done = [];

    public bool Enabled => options.Value.PromoteWinner;

    public void Consider(PromotionRequest request)
    {
        if (Enabled && request.Verdict.State == "winner")
        {
            _requests.Writer.TryWrite(request);
        }
    }

    /// <summary>Promotes one winner; false when nothing had to change (already champion, or no registry).</summary>
    public async Task<bool> PromoteAsync(PromotionRequest request, CancellationToken cancellationToken)
    {
        if (!_done.Add((request.Experiment, request.Model, request.Version)))
        {
            return false;
        }

        var client = services.GetService<MlflowClient>();
        if (client is null)
        {
            LogNoRegistry(request.Experiment, request.Model, request.Version);
            return false;
        }

        var alias = options.Value.ChampionAlias;
        try
        {
            var current = await client.GetModelVersionByAliasAsync(request.Model, alias, cancellationToken);
            if (current.Version == request.Version)
            {
                return false;
            }
        }
        catch (MlflowResourceNotFoundException)
        {
            // No champion yet: the winner becomes the first.
        }

        var registry = new MlflowTrackingClient(client);
        var audit = $"{time.GetUtcNow():O} metrics-sink promoted {request.Model} v{request.Version} to @{alias}: experiment {request.Experiment}, arm {request.Arm}, {request.Verdict.Text}";
        await registry.SetModelAliasAsync(request.Model, alias, request.Version, cancellationToken);
        await registry.SetModelVersionTagAsync(request.Model, request.Version, AuditTag, audit, cancellationToken);
        LogPromoted(request.Model, request.Version, alias, request.Experiment, request.Verdict.Text);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var request in _requests.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await PromoteAsync(request, stoppingToken);
                }
                catch (MlflowException e)
                {
                    // Forget it so the next look (the verdict stays) tries again.
                    _done.Remove((request.Experiment, request.Model, request.Version));
                    LogFailed(request.Model, request.Version, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Promoted {Model} v{Version} to @{Alias} (experiment {Experiment}: {Verdict})")]
    private partial void LogPromoted(string model, string version, string alias, string experiment, string verdict);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Could not promote {Model} v{Version}: {Reason}; trying again at the next look")]
    private partial void LogFailed(string model, string version, string reason);

    [LoggerMessage(EventId = 52, Level = LogLevel.Information, Message = "Experiment {Experiment} has a winner ({Model} v{Version}) but MLFLOW_TRACKING_URI is not set: no registry to promote it in")]
    private partial void LogNoRegistry(string experiment, string model, string version);
}
