namespace Mesh.MetricsSink.Tests;

/// <summary>Per-arm figures against hand-computed values: log loss, RMSE/MAE, percentiles, fallback rate, shadow agreement, windows.</summary>
public sealed class OutcomeFiguresTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Snapshot_ClassScores_LogLossIsMeanNegativeLogProbabilityOfTheTrueClass()
    {
        var joiner = Joiner();
        joiner.AddPrediction(Scored("r1", "setosa", 0.8f, 0.1f, 0.1f));
        joiner.AddPrediction(Scored("r2", "setosa", 0.5f, 0.25f, 0.25f));
        joiner.AddPrediction(Scored("r3", "setosa", 0.6f, 0.4f, 0f));

        joiner.AddLabel(Make.Label("r1", "setosa"));
        joiner.AddLabel(Make.Label("r2", "versicolor"));
        // The true class had probability 0: clipped at 1e-15, as scikit-learn does.
        joiner.AddLabel(Make.Label("r3", "virginica"));

        var arm = Arm(joiner.Snapshot());
        var expected = (-Math.Log(0.8f) - Math.Log(0.25f) - Math.Log(1e-15)) / 3;
        Assert.Equal(expected, arm.LogLoss!.Value, 5);
        Assert.Equal(1, arm.Correct);
        Assert.Null(arm.Rmse);
    }

    [Fact]
    public void Snapshot_NumericLabels_RmseAndMaeOfTheValues()
    {
        var joiner = Joiner();
        foreach (var (id, predicted, observed) in new[] { ("r1", 3.0, 1.0), ("r2", 1.0, 2.0), ("r3", 5.0, 5.0) })
        {
            var prediction = Make.Prediction(id);
            prediction.Output = new PredictionOutput { Value = predicted };
            joiner.AddPrediction(prediction);
            joiner.AddLabel(Make.Label(id, observed.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var arm = Arm(joiner.Snapshot());
        Assert.Equal(Math.Sqrt((4.0 + 1.0 + 0.0) / 3), arm.Rmse!.Value, 5);
        Assert.Equal((2.0 + 1.0 + 0.0) / 3, arm.Mae!.Value, 5);
        Assert.Null(arm.LogLoss);
        Assert.Equal(1, arm.Correct);
    }

    [Fact]
    public void Snapshot_LabelWithNumericValue_ScoresAsARegressionLabel()
    {
        var joiner = Joiner();
        var prediction = Make.Prediction("r1");
        prediction.Output = new PredictionOutput { Value = 4.0 };
        joiner.AddPrediction(prediction);

        joiner.AddLabel(new Label { RequestId = "r1", NumericValue = 2.5 });

        var arm = Arm(joiner.Snapshot());
        Assert.Equal(1.5, arm.Mae);
        Assert.Equal(1.5, arm.Rmse);
    }

    [Fact]
    public void Snapshot_LatencyFallbacksAndShadows_AsCounted()
    {
        var joiner = Joiner();
        for (var i = 1; i <= 100; i++)
        {
            var primary = Make.Prediction($"r{i}", latencyMs: i, fallback: i % 4 == 0, predicted: "setosa");
            // The shadow agrees with the primary on 3 requests in 5, arriving before or after it.
            var shadow = Make.Prediction($"r{i}", arm: "candidate", shadow: true, predicted: i % 5 < 3 ? "setosa" : "virginica");
            foreach (var prediction in i % 2 == 0 ? new[] { primary, shadow } : [shadow, primary])
            {
                joiner.AddPrediction(prediction);
            }
        }

        var experiment = Assert.Single(joiner.Snapshot().Experiments);
        var primaryArm = experiment.Arms.Single(a => !a.Shadow);
        var candidate = experiment.Arms.Single(a => a.Shadow);
        // Nearest rank: the 95th of 1..100 ms, within the histogram's 0.5%.
        Assert.InRange(primaryArm.LatencyP95Ms, 95 * 0.995, 95 * 1.005);
        Assert.Equal(0.25, primaryArm.FallbackRate);
        Assert.Equal(0.6, candidate.ShadowAgreement);
        Assert.Null(primaryArm.ShadowAgreement);
    }

    [Fact]
    public void Snapshot_ShadowBeforePrimary_IsComparedWhenThePrimaryArrives()
    {
        var joiner = Joiner();

        joiner.AddPrediction(Make.Prediction("r1", arm: "candidate", shadow: true, predicted: "setosa"));
        joiner.AddPrediction(Make.Prediction("r1", predicted: "setosa"));
        joiner.AddPrediction(Make.Prediction("r2", arm: "candidate", shadow: true, predicted: "virginica"));
        joiner.AddPrediction(Make.Prediction("r2", predicted: "setosa"));

        Assert.Equal(0.5, Assert.Single(joiner.Snapshot().Experiments).Arms.Single(a => a.Shadow).ShadowAgreement);
    }

    [Fact]
    public void CloseWindow_TwoWindows_EachHoldsOnlyItsOwnRecords()
    {
        var joiner = Joiner();
        joiner.AddPrediction(Make.Prediction("r1", predicted: "setosa"));
        joiner.AddLabel(Make.Label("r1", "setosa"));

        var first = Assert.Single(joiner.CloseWindow());
        joiner.AddPrediction(Make.Prediction("r2", predicted: "setosa"));
        joiner.AddPrediction(Make.Prediction("r3", predicted: "setosa"));
        joiner.AddLabel(Make.Label("r2", "virginica"));
        var second = Assert.Single(joiner.CloseWindow());
        var third = joiner.CloseWindow();

        Assert.Equal((1L, 1L, 1.0), (first.Counters.Predictions, first.Counters.Joined, first.Counters.Accuracy!.Value));
        Assert.Equal((2L, 1L, 0.0), (second.Counters.Predictions, second.Counters.Joined, second.Counters.Accuracy!.Value));
        Assert.Empty(third);
        Assert.Equal(0.5, Arm(joiner.Snapshot()).Accuracy);
    }

    [Fact]
    public void SummaryJson_NewFields_AreAddedBesideTheContractedOnes()
    {
        var joiner = Joiner();
        joiner.AddPrediction(Scored("r1", "setosa", 0.9f, 0.05f, 0.05f));
        joiner.AddLabel(Make.Label("r1", "setosa"));

        var json = SummaryJson.Serialize(joiner.Snapshot());

        foreach (var field in new[] { "\"accuracy\"", "\"latencyP50Ms\"", "\"latencyP99Ms\"", "\"fallbacks\"", "\"latencyP95Ms\"", "\"logLoss\"", "\"fallbackRate\"", "\"verdict\"" })
        {
            Assert.Contains(field, json, StringComparison.Ordinal);
        }
    }

    private PredictionLabelJoiner Joiner() => new(_time, TimeSpan.FromSeconds(600), 1000);

    private static ArmSummary Arm(SummaryDocument summary) => Assert.Single(Assert.Single(summary.Experiments).Arms);

    private static Prediction Scored(string requestId, string predicted, params float[] scores)
    {
        var prediction = Make.Prediction(requestId, predicted: predicted);
        prediction.Output.Scores.Add(scores);
        prediction.Output.ClassNames.Add(["setosa", "versicolor", "virginica"]);
        return prediction;
    }
}
