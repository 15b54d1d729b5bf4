using Google.Protobuf.Collections;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>The running counts of one experiment arm, since start and in the current window. Guarded by the joiner's lock.</summary>
internal sealed class ArmStatistics(string experiment, string arm, bool shadow)
{
    /// <summary>The context key of the experiment's strategy (set by the router).</summary>
    public const string StrategyKey = "mesh.strategy";

    /// <summary>The context key of the arm's configured weight (set by the router).</summary>
    public const string WeightKey = "mesh.weight";

    public string Experiment => experiment;

    public string Arm => arm;

    public bool Shadow => shadow;

    // The latest model seen on the arm: a hot swap changes it mid-run.
    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    public string PolicyVersion { get; set; } = "";

    /// <summary>The latest <c>mesh.strategy</c> the arm's Predictions carried (docs/internal-contracts.md); empty until one did.</summary>
    public string Strategy => Window.Strategy;

    /// <summary>The latest <c>mesh.weight</c> (the arm's configured weight, invariant-culture text); empty until a Prediction carried it.</summary>
    public string Weight => Window.Weight;

    public OutcomeCounters Total { get; } = new();

    /// <summary>Since the last window closed; replaced when it closes.</summary>
    public OutcomeCounters Window { get; private set; } = new();

    public long Predictions => Total.Predictions;

    public long Joined => Total.Joined;

    public long Correct => Total.Correct;

    public long Fallbacks => Total.Fallbacks;

    public LatencyHistogram Latency => Total.Latency;

    public long DeadLetters => Total.DeadLetters;

    /// <summary>Dead letters / (predictions + dead letters) since start; null for shadows (the router never dead-letters for them).</summary>
    public double? DeadLetterRate => shadow ? null : Total.DeadLetterRate;

    /// <summary>Takes the strategy and weight the router put in a Prediction's context (no allocation when they did not change).</summary>
    public void RecordContext(MapField<string, string> context)
    {
        if (context.TryGetValue(StrategyKey, out var strategy) && !string.Equals(strategy, Window.Strategy, StringComparison.Ordinal))
        {
            Window.Strategy = strategy;
        }

        if (context.TryGetValue(WeightKey, out var weight) && !string.Equals(weight, Window.Weight, StringComparison.Ordinal))
        {
            Window.Weight = weight;
        }
    }

    /// <summary>A record the router dead-lettered after choosing this arm.</summary>
    public void RecordDeadLetter()
    {
        Total.RecordDeadLetter();
        Window.RecordDeadLetter();
    }

    public void RecordPrediction(bool fallback, double latencyMs)
    {
        Total.RecordPrediction(fallback, latencyMs);
        Window.RecordPrediction(fallback, latencyMs);
    }

    public void RecordJoin(in JoinScore score)
    {
        Total.RecordJoin(score);
        Window.RecordJoin(score);
    }

    public void RecordShadowComparison(bool agrees)
    {
        Total.RecordShadowComparison(agrees);
        Window.RecordShadowComparison(agrees);
    }

    public OutcomeCounters CloseWindow()
    {
        var closed = Window;
        // The arm keeps its strategy and weight into the next window, which may see no Prediction at all.
        Window = new OutcomeCounters { Strategy = closed.Strategy, Weight = closed.Weight };
        return closed;
    }
}

/// <summary>
/// The router's dead letters that name no arm: per experiment when they name one, else overall (records that failed
/// before any arm was chosen: decode and validation errors). Guarded by the joiner's lock.
/// </summary>
internal sealed class UnattributedDeadLetters
{
    private readonly Dictionary<string, long> _byExperiment = new(StringComparer.Ordinal);
    private long _withoutExperiment;

    public void Record(string experiment)
    {
        if (experiment.Length == 0)
        {
            _withoutExperiment++;
        }
        else
        {
            _byExperiment[experiment] = _byExperiment.GetValueOrDefault(experiment) + 1;
        }
    }

    public Summary.UnattributedDeadLetterSummary Summarize() => new(_withoutExperiment, new SortedDictionary<string, long>(_byExperiment, StringComparer.Ordinal));
}

/// <summary>How one joined prediction scored against its label.</summary>
/// <param name="Correct">The predicted class (or value's text) equals the label.</param>
/// <param name="LogLoss">−ln p(true class), when the prediction carried class scores.</param>
/// <param name="Error">Predicted minus observed, when both are numbers.</param>
internal readonly record struct JoinScore(bool Correct, double? LogLoss, double? Error);

/// <summary>Counts and sums from which every per-arm figure is computed.</summary>
internal sealed class OutcomeCounters
{
    public long Predictions { get; private set; }

    public long Joined { get; private set; }

    public long Correct { get; private set; }

    public long Fallbacks { get; private set; }

    public long LogLossCount { get; private set; }

    public double LogLossSum { get; private set; }

    public long NumericCount { get; private set; }

    public double SquaredErrorSum { get; private set; }

    public double AbsoluteErrorSum { get; private set; }

    public long ShadowCompared { get; private set; }

    public long ShadowAgreed { get; private set; }

    /// <summary>Records the router dead-lettered after choosing the arm (inference failed, fallback too).</summary>
    public long DeadLetters { get; private set; }

    /// <summary>The arm's <c>mesh.strategy</c> as its Predictions said, carried over from window to window.</summary>
    public string Strategy { get; set; } = "";

    /// <summary>The arm's <c>mesh.weight</c> as its Predictions said (the latest in the window), carried over from window to window.</summary>
    public string Weight { get; set; } = "";

    public LatencyHistogram Latency { get; } = new();

    public double? Accuracy => Joined == 0 ? null : (double)Correct / Joined;

    public double? LogLoss => LogLossCount == 0 ? null : LogLossSum / LogLossCount;

    public double? Rmse => NumericCount == 0 ? null : Math.Sqrt(SquaredErrorSum / NumericCount);

    public double? Mae => NumericCount == 0 ? null : AbsoluteErrorSum / NumericCount;

    public double? FallbackRate => Predictions == 0 ? null : (double)Fallbacks / Predictions;

    public double? ShadowAgreement => ShadowCompared == 0 ? null : (double)ShadowAgreed / ShadowCompared;

    /// <summary>Dead letters / (predictions + dead letters): the share of the records assigned to the arm that got no Prediction.</summary>
    public double? DeadLetterRate => Predictions + DeadLetters == 0 ? null : (double)DeadLetters / (Predictions + DeadLetters);

    public void RecordDeadLetter() => DeadLetters++;

    public void RecordPrediction(bool fallback, double latencyMs)
    {
        Predictions++;
        if (fallback)
        {
            Fallbacks++;
        }

        Latency.Record(latencyMs);
    }

    public void RecordJoin(in JoinScore score)
    {
        Joined++;
        if (score.Correct)
        {
            Correct++;
        }

        if (score.LogLoss is { } logLoss)
        {
            LogLossCount++;
            LogLossSum += logLoss;
        }

        if (score.Error is { } error)
        {
            NumericCount++;
            SquaredErrorSum += error * error;
            AbsoluteErrorSum += Math.Abs(error);
        }
    }

    public void RecordShadowComparison(bool agrees)
    {
        ShadowCompared++;
        if (agrees)
        {
            ShadowAgreed++;
        }
    }
}
