using System.Globalization;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Drift;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Outcomes;
using Mesh.MetricsSink.Promotion;
using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Telemetry;
using Mesh.MetricsSink.Verdicts;
using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Tracking;

/// <summary>
/// The sink's window clock. Every <c>MetricsSink:WindowSeconds</c>: closes the window of every experiment arm, looks at each experiment
/// with the sequential test, and hands the figures to the <see cref="TrackingWriter"/> (one MLflow run per
/// experiment arm and model version each time the sink starts, step = window index, strictly increasing) and to the
/// Prometheus gauges, and asks the <see cref="ModelPromoter"/> to move the champion alias when a verdict allows it.
/// The writer ends the runs FINISHED when the sink stops. Only queues: the
/// writer does the I/O in the background, so a slow or absent MLflow never slows the consume loop.
/// </summary>
internal sealed partial class WindowCloser(
    PredictionLabelJoiner joiner,
    TrackingWriter writer,
    SequentialAccuracyTest test,
    MetricsSinkTelemetry telemetry,
    IOptions<MetricsSinkOptions> options,
    TimeProvider time,
    ILogger<WindowCloser> logger,
    ModelPromoter? promoter = null,
    RegisteredModelNames? modelNames = null,
    DriftReporter? drift = null,
    OutcomeCatalog? outcomes = null,
    RunLinks? links = null) : BackgroundService
{
    private readonly RegisteredModelNames _modelNames = modelNames ?? new RegisteredModelNames(new PromotionOptions());
    // Each primary arm's current run, so a promotion can be recorded on the runs it decided between.
    private readonly Dictionary<(string Experiment, string Arm), ArmRun> _runs = [];
    private readonly Dictionary<string, string> _states = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private long _droppedReported;
    private long _lastStep = long.MinValue;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        LogTrackingTo(writer.Destination, options.Value.WindowSeconds);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The partial last window counts too; then give the writer a few seconds to deliver.
        CloseWindow();
        await writer.CompleteAsync(TimeSpan.FromSeconds(5));
        if (writer.Pending > 0)
        {
            LogUnwritten(writer.Pending, writer.Destination);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.WindowSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CloseWindow();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Closes the window now: what the timer does, callable from tests.</summary>
    public IReadOnlyDictionary<string, ExperimentVerdict> CloseWindow()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // The window index of the clock, but never a step already used: the partial window closed on stop
            // (or a tick that came late) can fall in the same index as the window before it.
            var step = Math.Max(now.ToUnixTimeSeconds() / options.Value.WindowSeconds, _lastStep == long.MinValue ? long.MinValue : _lastStep + 1);
            _lastStep = step;
            var timestamp = now.ToUnixTimeMilliseconds();
            var windows = joiner.CloseWindow();
            var driftFigures = drift?.CloseWindow(step);
            telemetry.LatestWindows = windows;

            var snapshot = joiner.Snapshot();
            var verdicts = Look(snapshot);
            joiner.SetVerdicts(verdicts);
            foreach (var window in windows)
            {
                var record = Record(window, verdicts.GetValueOrDefault(window.Experiment), step, timestamp, _modelNames.ModelUri(window.Model, window.Version));
                if (!window.Shadow)
                {
                    _runs[(window.Experiment, window.Arm)] = new ArmRun(record.RunKey, record.RunName);
                }

                links?.Remember(window.Experiment, window.Arm, window.Shadow, record.RunKey);

                // Drift figures go on the same run as the arm's outcomes, at the same step.
                writer.TryEnqueue(driftFigures?.GetValueOrDefault((window.Experiment, window.Arm, window.Shadow)) is { Count: > 0 } figures
                    ? record with { Metrics = [.. record.Metrics, .. figures] }
                    : record);
            }

            ConsiderPromotions(snapshot, verdicts);

            ReportDrops();
            return verdicts;
        }
    }

    private Dictionary<string, ExperimentVerdict> Look(Summary.SummaryDocument snapshot)
    {
        var verdicts = new Dictionary<string, ExperimentVerdict>(StringComparer.Ordinal);
        foreach (var experiment in snapshot.Experiments)
        {
            var declared = outcomes?.For(experiment.Experiment) ?? ExperimentOutcomes.None;
            var verdict = declared.Verdict is { } outcome
                ? test.Look(experiment.Experiment, [.. experiment.Arms.Where(a => !a.Shadow).Select(a => OnOutcome(a, outcome))], outcome.Name, declared.VerdictEffectSize)
                : test.Look(experiment.Experiment, [.. experiment.Arms.Where(a => !a.Shadow).Select(a => new ArmOutcomes(a.Arm, a.Joined, a.Correct))]);
            verdicts[experiment.Experiment] = verdict;

            if (_states.GetValueOrDefault(experiment.Experiment) != verdict.State + verdict.Winner)
            {
                _states[experiment.Experiment] = verdict.State + verdict.Winner;
                LogVerdict(experiment.Experiment, verdict.Text);
            }
        }

        return verdicts;
    }

    // The arm as the verdict on a declared outcome sees it: the labels that carried it, its mean (a rate: the share
    // above zero, with its Bernoulli variance) and sample variance.
    private static ArmOutcomes OnOutcome(Summary.ArmSummary arm, OutcomeDeclaration outcome)
    {
        var figures = arm.Outcomes?.FirstOrDefault(o => o.Name == outcome.Name);
        if (figures is null || figures.Count == 0)
        {
            return new ArmOutcomes(arm.Arm, 0, 0) { OutcomeMean = 0 };
        }

        if (outcome.Aggregate == OutcomeAggregate.Rate)
        {
            var rate = figures.Rate ?? 0;
            return new ArmOutcomes(arm.Arm, figures.Count, 0) { OutcomeMean = rate, OutcomeVariance = rate * (1 - rate) };
        }

        return new ArmOutcomes(arm.Arm, figures.Count, 0) { OutcomeMean = figures.Mean ?? 0, OutcomeVariance = figures.Variance ?? 0 };
    }

    private void ConsiderPromotions(Summary.SummaryDocument snapshot, Dictionary<string, ExperimentVerdict> verdicts)
    {
        if (promoter is null)
        {
            return;
        }

        foreach (var experiment in snapshot.Experiments)
        {
            var verdict = verdicts[experiment.Experiment];
            var primaries = experiment.Arms.Where(a => !a.Shadow).ToList();
            if (verdict.Winner is not null && primaries.FirstOrDefault(a => a.Arm == verdict.Winner) is { } winner)
            {
                var runs = primaries.Where(a => _runs.ContainsKey((experiment.Experiment, a.Arm))).ToDictionary(a => a.Arm, a => _runs[(experiment.Experiment, a.Arm)], StringComparer.Ordinal);
                promoter.Consider(new PromotionRequest(experiment.Experiment, winner, [.. primaries.Where(a => a.Arm != winner.Arm)], verdict, runs));
            }
        }
    }

    private static TrackingRecord Record(ArmWindow window, ExperimentVerdict? verdict, long step, long timestamp, string modelUri)
    {
        var c = window.Counters;
        var metrics = new List<MlflowMetric>();
        void Add(string key, double? value)
        {
            if (value is { } v && double.IsFinite(v))
            {
                metrics.Add(new MlflowMetric(key, v, timestamp, step));
            }
        }

        Add("predictions", c.Predictions);
        Add("joined", c.Joined);
        Add("accuracy", c.Accuracy);
        Add("log_loss", c.LogLoss);
        Add("rmse", c.Rmse);
        Add("mae", c.Mae);
        if (c.Latency.Count > 0)
        {
            Add("latency_p50_ms", c.Latency.Percentile(0.50));
            Add("latency_p95_ms", c.Latency.Percentile(0.95));
            Add("latency_p99_ms", c.Latency.Percentile(0.99));
        }

        Add("fallback_rate", c.FallbackRate);
        Add("shadow_agreement", c.ShadowAgreement);
        foreach (var outcome in c.Outcomes)
        {
            // outcome.revenue.mean: the declared aggregate, beside how many labels carried it and how many lacked it.
            var prefix = "outcome." + outcome.Declaration.Name + ".";
            Add(prefix + outcome.Declaration.AggregateName, outcome.Value);
            Add(prefix + "count", outcome.Count);
            Add(prefix + "missing", c.Missing(outcome));
        }
        if (!window.Shadow)
        {
            Add("dead_letters", c.DeadLetters);
            Add("dead_letter_rate", window.DeadLetterRate);
        }

        // The weight in force at the window's end, as a metric too: a chart of it sits beside the rates it drives.
        if (double.TryParse(window.Weight, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
        {
            Add("weight", weight);
        }

        var modelKnown = window.Model.Length > 0;
        var tags = new List<MlflowKeyValue>
        {
            new("mesh.experiment", window.Experiment),
            new("mesh.arm", window.Arm),
            new("mesh.shadow", window.Shadow ? "true" : "false"),
            new("mesh.policy_version", window.PolicyVersion),
        };
        if (modelKnown)
        {
            tags.Add(new("mesh.model_name", window.Model));
            tags.Add(new("mesh.model_version", window.Version));
            // The registry's URI the arm's model is served from (MetricsSink:ModelUris, else models:/<served>/<version>):
            // MLflow's UI and clients resolve it, and promotion moves the alias of the registered model it names
            // (ModelRunTagger adds mesh.model_run_id when writing to an MLflow server).
            tags.Add(new("mesh.model_uri", modelUri));
        }

        if (verdict is not null && !window.Shadow)
        {
            Add("verdict_p_value", verdict.PValue);
            Add("verdict_difference", verdict.Difference);
            tags.Add(new("mesh.verdict", verdict.Text));
            tags.Add(new("mesh.verdict_state", verdict.State));
            tags.Add(new("mesh.verdict_winner", verdict.Winner ?? ""));
            tags.Add(new("mesh.verdict_outcome", verdict.Outcome ?? "accuracy"));
        }

        var parameters = new List<MlflowKeyValue>
        {
            new("arm", window.Arm),
            new("shadow", window.Shadow ? "true" : "false"),
        };
        if (modelKnown)
        {
            parameters.Add(new("model_name", window.Model));
            parameters.Add(new("model_version", window.Version));
        }

        var strategy = StrategyOf(window);
        if (strategy is not null)
        {
            parameters.Add(new("strategy", strategy));
        }

        if (window.Weight.Length > 0)
        {
            parameters.Add(new("weight", window.Weight));
        }

        // Params cannot change within a run, so whatever they say is in the run's key: a new model version on the
        // arm, a weight changed through the router's admin API or a reload with another strategy start a new run.
        var runKey = $"{window.Experiment}/{window.Arm}/{(window.Shadow ? "shadow" : "primary")}/{window.Model}/{window.Version}";
        var runName = modelKnown
            ? $"{window.Arm}{(window.Shadow ? " (shadow)" : "")} {window.Model} v{window.Version}"
            : $"{window.Arm} (no prediction yet)";
        if (window.Strategy.Length > 0 || window.Weight.Length > 0)
        {
            // The name stays the arm's and model's (what people and tools look runs up by); the params tell runs apart.
            runKey += $"/{window.Strategy}/w{window.Weight}";
        }

        return new TrackingRecord(window.Experiment, runKey, runName, parameters, tags, metrics);
    }

    // The router says the strategy in every Prediction (mesh.strategy); for Predictions of an older router, what they
    // do say (shadow, the ensemble's policy version) is logged.
    private static string? StrategyOf(ArmWindow window) =>
        window.Strategy.Length > 0 ? window.Strategy
        : window.Shadow ? "shadow" : window.PolicyVersion.StartsWith("ensemble-", StringComparison.Ordinal) ? "ensemble" : null;

    private void ReportDrops()
    {
        var dropped = writer.Dropped;
        if (dropped > _droppedReported)
        {
            telemetry.TrackingDropped.Add(dropped - _droppedReported);
            LogDropped(dropped - _droppedReported, dropped, writer.Destination);
            _droppedReported = dropped;
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Recording outcomes to {Destination} every {WindowSeconds} s")]
    private partial void LogTrackingTo(string destination, int windowSeconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Experiment {Experiment}: {Verdict}")]
    private partial void LogVerdict(string experiment, string verdict);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Dropped {Count} tracking records ({Total} in all): the buffer (MetricsSink:TrackingBufferSize) is full while {Destination} is not answering")]
    private partial void LogDropped(long count, long total, string destination);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "{Pending} tracking records were not written to {Destination} before stopping")]
    private partial void LogUnwritten(long pending, string destination);
}
