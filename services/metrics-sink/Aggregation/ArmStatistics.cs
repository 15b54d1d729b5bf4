using Google.Protobuf.Collections;
using Mesh.MetricsSink.Outcomes;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>The running counts of one experiment arm, since start and in the current window. Guarded by the joiner's lock.</summary>
/// <param name="journal">Also keep what changed the totals since <see cref="TakeJournal"/>: the durable join state
/// persists it with the records that caused it.</param>
/// <param name="declared">The outcomes the experiment declares: each joined label's values of them are tallied.</param>
internal sealed class ArmStatistics(string experiment, string arm, bool shadow, bool journal = false, IReadOnlyList<OutcomeDeclaration>? declared = null)
{
    private readonly List<ArmEvent>? _journal = journal ? [] : null;

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

    public OutcomeCounters Total { get; } = new(declared);

    /// <summary>Since the last window closed; replaced when it closes.</summary>
    public OutcomeCounters Window { get; private set; } = new(declared);

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
        _journal?.Add(new ArmEvent(ArmEventKind.Prediction, fallback, latencyMs, default));
    }

    /// <summary>A record assigned to this arm that the fallback arm answered: counted here as a fallback, scored there.</summary>
    public void RecordAnsweredElsewhere()
    {
        Total.RecordAnsweredElsewhere();
        Window.RecordAnsweredElsewhere();
        _journal?.Add(new ArmEvent(ArmEventKind.AnsweredElsewhere, true, 0, default));
    }

    /// <summary>The label's values of the declared outcomes (NaN where it lacks one); null when none are declared.</summary>
    public double[]? ReadOutcomes(IReadOnlyDictionary<string, double> outcomes)
    {
        if (declared is not { Count: > 0 })
        {
            return null;
        }

        var values = new double[declared.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = outcomes.TryGetValue(declared[i].Name, out var value) && double.IsFinite(value) ? value : double.NaN;
        }

        return values;
    }

    public void RecordJoin(in JoinScore score)
    {
        Total.RecordJoin(score);
        Window.RecordJoin(score);
        _journal?.Add(new ArmEvent(ArmEventKind.Join, false, 0, score));
    }

    public void RecordShadowComparison(bool agrees)
    {
        Total.RecordShadowComparison(agrees);
        Window.RecordShadowComparison(agrees);
        _journal?.Add(new ArmEvent(ArmEventKind.ShadowComparison, agrees, 0, default));
    }

    public OutcomeCounters CloseWindow()
    {
        var closed = Window;
        // The arm keeps its strategy and weight into the next window, which may see no Prediction at all.
        Window = new OutcomeCounters(declared) { Strategy = closed.Strategy, Weight = closed.Weight };
        return closed;
    }

    /// <summary>What changed the totals since the last call (empty without a journal); the journal starts again.</summary>
    public IReadOnlyList<ArmEvent> TakeJournal()
    {
        if (_journal is not { Count: > 0 })
        {
            return [];
        }

        ArmEvent[] taken = [.. _journal];
        _journal.Clear();
        return taken;
    }
}
