using System.Globalization;
using System.Threading.Channels;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Summary;
using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Promotion;

/// <summary>
/// With <c>MetricsSink:PromoteWinner</c> on and MLflow configured: when an experiment's verdict names a winner, and
/// the winner has <c>MetricsSink:PromoteMinSamples</c> joined outcomes as has every arm it is compared with, and it
/// does not regress on p99 latency or dead-letter rate beyond the bounds against the champion, points the champion
/// alias of the winner's <b>registered</b> model at its version (the model hosts serving
/// <c>models:/name@champion</c> then swap to it). The version is tagged with where the alias came from
/// (<c>mesh.promoted_from</c>, which <c>mesh promote --undo</c> goes back to), the p-value and the counts; so are
/// both arms' runs. Off by default: moving production traffic is a decision a team opts into. Runs in the
/// background so the window service never waits on the registry; each winner is promoted at most once per process.
/// </summary>
internal sealed partial class ModelPromoter(
    IServiceProvider services,
    IOptions<MetricsSinkOptions> options,
    IOptions<PromotionOptions> promotion,
    RegisteredModelNames names,
    TrackingWriter writer,
    TimeProvider time,
    ILogger<ModelPromoter> logger) : BackgroundService
{
    public const string AuditTag = "mesh.promotion";

    private readonly Channel<PromotionRequest> _requests = Channel.CreateBounded<PromotionRequest>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly HashSet<(string Experiment, string Model, string Version)> _done = [];
    private readonly HashSet<string> _refusals = new(StringComparer.Ordinal);

    public bool Enabled => options.Value.PromoteWinner;

    public void Consider(PromotionRequest request)
    {
        if (Enabled && request.Verdict.State == "winner")
        {
            _requests.Writer.TryWrite(request);
        }
    }

    /// <summary>Promotes one winner; false when nothing changed (not allowed yet, already champion, or no registry).</summary>
    public async Task<bool> PromoteAsync(PromotionRequest request, CancellationToken cancellationToken)
    {
        var settings = promotion.Value;
        var winner = request.Winner;
        var model = names.RegisteredName(winner.Model, winner.Version);
        var champions = Champions(request, model);
        if (Refusal(request, model, champions) is { } reason)
        {
            // Said once per reason: the verdict stays and is looked at every window.
            if (_refusals.Add($"{request.Experiment}|{winner.Arm}|{reason}"))
            {
                LogNotPromoted(request.Experiment, winner.Arm, reason);
            }

            return false;
        }

        if (!_done.Add((request.Experiment, model!, winner.Version)))
        {
            return false;
        }

        var client = services.GetService<MlflowClient>();
        if (client is null)
        {
            LogNoRegistry(request.Experiment, model!, winner.Version);
            return false;
        }

        var alias = options.Value.ChampionAlias;
        var counts = string.Join(", ", new[] { winner }.Concat(champions).Select(a => request.Verdict.Outcome is { } outcome
            ? $"{a.Arm} {outcome} mean {OutcomeOf(a, outcome)?.Mean?.ToString("0.####", CultureInfo.InvariantCulture)} over {Samples(a, request.Verdict)}"
            : $"{a.Arm} {a.Correct}/{a.Joined}"));
        var pValue = request.Verdict.PValue.ToString("G6", CultureInfo.InvariantCulture);
        var audit = $"{time.GetUtcNow():O} metrics-sink promoted {model} v{winner.Version} to @{alias}: experiment {request.Experiment}, arm {winner.Arm}, {request.Verdict.Text}";
        var move = await new ChampionAlias(client).MoveAsync(model!, alias, winner.Version,
            [new(AuditTag, audit), new("mesh.promotion_p_value", pValue), new("mesh.promotion_counts", counts), new("mesh.promotion_experiment", request.Experiment)],
            cancellationToken);
        if (!move.Moved)
        {
            return false;
        }

        List<MlflowKeyValue> runTags =
        [
            new(ChampionAlias.PromotedFromTag, move.Previous is null ? "" : $"{model} v{move.Previous}"),
            new("mesh.promoted_to", $"{model} v{winner.Version} @{alias}"),
            new("mesh.promotion_p_value", pValue),
            new("mesh.promotion_counts", counts),
        ];
        foreach (var arm in new[] { winner }.Concat(champions))
        {
            if (request.Runs.TryGetValue(arm.Arm, out var run))
            {
                writer.TryEnqueue(new TrackingRecord(request.Experiment, run.RunKey, run.RunName, [], runTags, []));
            }
        }

        LogPromoted(model!, winner.Version, alias, move.Previous ?? "(none)", request.Experiment, request.Verdict.Text);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var request in _requests.Reader.ReadAllAsync(stoppingToken))
            {
                var model = names.RegisteredName(request.Winner.Model, request.Winner.Version) ?? "";
                try
                {
                    await PromoteAsync(request, stoppingToken);
                }
                catch (MlflowException e)
                {
                    // Forget it so the next look (the verdict stays) tries again.
                    _done.Remove((request.Experiment, model, request.Winner.Version));
                    LogFailed(model, request.Winner.Version, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // The arms the winner would replace: those serving the same registered model (its champion among them), else
    // every other primary arm it was compared with.
    private IReadOnlyList<ArmSummary> Champions(PromotionRequest request, string? model)
    {
        var sameModel = request.Others.Where(o => model is not null && names.RegisteredName(o.Model, o.Version) == model).ToList();
        return sameModel.Count > 0 ? sameModel : request.Others;
    }

    private string? Refusal(PromotionRequest request, string? model, IReadOnlyList<ArmSummary> champions)
    {
        var settings = promotion.Value;
        var winner = request.Winner;
        if (request.Verdict.State != "winner" || request.Verdict.Winner != winner.Arm)
        {
            return "the verdict does not name this arm";
        }

        if (model is null)
        {
            return $"its model URI {names.ModelUri(winner.Model, winner.Version)} names no registered model";
        }

        foreach (var arm in new[] { winner }.Concat(champions))
        {
            if (Samples(arm, request.Verdict) < settings.PromoteMinSamples)
            {
                return $"{arm.Arm} has {Samples(arm, request.Verdict)} of the {settings.PromoteMinSamples} joined outcomes MetricsSink:PromoteMinSamples asks";
            }
        }

        foreach (var champion in champions)
        {
            if (champion.LatencyP99Ms > 0 && winner.LatencyP99Ms > champion.LatencyP99Ms * (1 + settings.PromoteMaxLatencyP99Increase))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"p99 latency {winner.LatencyP99Ms:0.##} ms is more than {settings.PromoteMaxLatencyP99Increase * 100:0.##}% above {champion.Arm}'s {champion.LatencyP99Ms:0.##} ms");
            }

            if ((winner.DeadLetterRate ?? 0) > (champion.DeadLetterRate ?? 0) + settings.PromoteMaxDeadLetterRateIncrease)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"dead-letter rate {winner.DeadLetterRate * 100:0.00}% is more than {settings.PromoteMaxDeadLetterRateIncrease * 100:0.00}% above {champion.Arm}'s {(champion.DeadLetterRate ?? 0) * 100:0.00}%");
            }
        }

        return null;
    }

    // The sample the verdict was on: the labels that carried its declared outcome, else every joined label.
    private static long Samples(ArmSummary arm, Verdicts.ExperimentVerdict verdict) =>
        verdict.Outcome is { } outcome ? OutcomeOf(arm, outcome)?.Count ?? 0 : arm.Joined;

    private static OutcomeSummary? OutcomeOf(ArmSummary arm, string outcome) => arm.Outcomes?.FirstOrDefault(o => o.Name == outcome);

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Promoted {Model} v{Version} to @{Alias}, from {Previous} (experiment {Experiment}: {Verdict})")]
    private partial void LogPromoted(string model, string version, string alias, string previous, string experiment, string verdict);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Could not promote {Model} v{Version}: {Reason}; trying again at the next look")]
    private partial void LogFailed(string model, string version, string reason);

    [LoggerMessage(EventId = 52, Level = LogLevel.Information, Message = "Experiment {Experiment} has a winner ({Model} v{Version}) but MLFLOW_TRACKING_URI is not set: no registry to promote it in")]
    private partial void LogNoRegistry(string experiment, string model, string version);

    [LoggerMessage(EventId = 53, Level = LogLevel.Information, Message = "Experiment {Experiment}: winner {Arm} is not promoted: {Reason}")]
    private partial void LogNotPromoted(string experiment, string arm, string reason);
}
