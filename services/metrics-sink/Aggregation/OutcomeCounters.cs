using Mesh.MetricsSink.Outcomes;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>Counts and sums from which every per-arm figure is computed.</summary>
/// <param name="declared">The outcomes the arm's experiment declares (docs/outcomes.md), one tally each.</param>
internal sealed class OutcomeCounters(IReadOnlyList<OutcomeDeclaration>? declared = null)
{
    private static readonly OutcomeTally[] s_none = [];

    public long Predictions { get; private set; }

    public long Joined { get; private set; }

    public long Correct { get; private set; }

    public long Fallbacks { get; private set; }

    /// <summary>Of <see cref="Fallbacks"/>, those the fallback arm answered and counts as its own predictions.</summary>
    public long FallbacksElsewhere { get; private set; }

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

    /// <summary>One tally per declared outcome, in the declaration's order.</summary>
    public IReadOnlyList<OutcomeTally> Outcomes { get; } = declared is { Count: > 0 } ? [.. declared.Select(d => new OutcomeTally(d))] : s_none;

    public IReadOnlyList<OutcomeDeclaration> Declared => declared ?? [];

    /// <summary>Joined labels that lacked the declared outcome: counted, never taken for zero.</summary>
    public long Missing(OutcomeTally tally) => Joined - tally.Count;

    public double? Accuracy => Joined == 0 ? null : (double)Correct / Joined;

    public double? LogLoss => LogLossCount == 0 ? null : LogLossSum / LogLossCount;

    public double? Rmse => NumericCount == 0 ? null : Math.Sqrt(SquaredErrorSum / NumericCount);

    public double? Mae => NumericCount == 0 ? null : AbsoluteErrorSum / NumericCount;

    /// <summary>The share of the records assigned to the arm that a fallback answered (here, or as the fallback arm's own).</summary>
    public double? FallbackRate => Predictions + FallbacksElsewhere == 0 ? null : (double)Fallbacks / (Predictions + FallbacksElsewhere);

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

    public void RecordAnsweredElsewhere()
    {
        Fallbacks++;
        FallbacksElsewhere++;
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

        if (score.Outcomes is { } values)
        {
            for (var i = 0; i < values.Length && i < Outcomes.Count; i++)
            {
                if (!double.IsNaN(values[i]))
                {
                    Outcomes[i].Record(values[i]);
                }
            }
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

    /// <summary>Adds a figure read back from the durable join state (names: <see cref="DurableFigures"/>).</summary>
    public void Restore(string figure, double value)
    {
        var count = (long)Math.Round(value);
        switch (figure)
        {
            case DurableFigures.Predictions: Predictions += count; break;
            case DurableFigures.Fallbacks: Fallbacks += count; break;
            case DurableFigures.FallbacksElsewhere: FallbacksElsewhere += count; break;
            case DurableFigures.Joined: Joined += count; break;
            case DurableFigures.Correct: Correct += count; break;
            case DurableFigures.LogLossCount: LogLossCount += count; break;
            case DurableFigures.LogLossSum: LogLossSum += value; break;
            case DurableFigures.NumericCount: NumericCount += count; break;
            case DurableFigures.SquaredErrorSum: SquaredErrorSum += value; break;
            case DurableFigures.AbsoluteErrorSum: AbsoluteErrorSum += value; break;
            case DurableFigures.ShadowCompared: ShadowCompared += count; break;
            case DurableFigures.ShadowAgreed: ShadowAgreed += count; break;
            default:
                if (DurableFigures.LatencyBucket(figure) is int bucket)
                {
                    Latency.Restore(bucket, count);
                }
                else if (DurableFigures.ParseOutcome(figure) is var (name, part) && Find(name) is { } tally)
                {
                    // An outcome the spec no longer declares stays in Redis, unread.
                    tally.Restore(part, value);
                }

                break;
        }
    }

    private OutcomeTally? Find(string name)
    {
        foreach (var tally in Outcomes)
        {
            if (tally.Declaration.Name == name)
            {
                return tally;
            }
        }

        return null;
    }
}
