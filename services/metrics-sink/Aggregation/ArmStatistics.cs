namespace Mesh.MetricsSink.Aggregation;

/// <summary>The running counts of one experiment arm, since start and in the current window. Guarded by the joiner's lock.</summary>
internal sealed class ArmStatistics(string experiment, string arm, bool shadow)
{
    public string Experiment => experiment;

    public string Arm => arm;

    public bool Shadow => shadow;

    // The latest model seen on the arm: a hot swap changes it mid-run.
    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    public string PolicyVersion { get; set; } = "";

    public OutcomeCounters Total { get; } = new();

    /// <summary>Since the last window closed; replaced when it closes.</summary>
    public OutcomeCounters Window { get; private set; } = new();

    public long Predictions => Total.Predictions;

    public long Joined => Total.Joined;

    public long Correct => Total.Correct;

    public long Fallbacks => Total.Fallbacks;

    public LatencyHistogram Latency => Total.Latency;

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
        Window = new OutcomeCounters();
        return closed;
    }
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

    public LatencyHistogram Latency { get; } = new();

    public double? Accuracy => Joined == 0 ? null : (double)Correct / Joined;

    public double? LogLoss => LogLossCount == 0 ? null : LogLossSum / LogLossCount;

    public double? Rmse => NumericCount == 0 ? null : Math.Sqrt(SquaredErrorSum / NumericCount);

    public double? Mae => NumericCount == 0 ? null : AbsoluteErrorSum / NumericCount;

    public double? FallbackRate => Predictions == 0 ? null : (double)Fallbacks / Predictions;

    public double? ShadowAgreement => ShadowCompared == 0 ? null : (double)ShadowAgreed / ShadowCompared;

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
