namespace Mesh.MetricsSink.Tests;

public sealed class PredictionLabelJoinerTests
{
    private readonly ManualTimeProvider _time = new();

    private PredictionLabelJoiner Joiner(int windowSeconds = 600, int maxPending = 1000) => new(_time, TimeSpan.FromSeconds(windowSeconds), maxPending);

    [Fact]
    public void AddLabel_AfterPrediction_Joins()
    {
        var joiner = Joiner();

        Assert.Equal(JoinOutcome.Pending, joiner.AddPrediction(Make.Prediction("r1", predicted: "setosa")));
        Assert.Equal(1, joiner.Snapshot().PendingPredictions);
        Assert.Equal(JoinOutcome.Joined, joiner.AddLabel(Make.Label("r1", "setosa")));

        var summary = joiner.Snapshot();
        Assert.Equal(1, summary.Joined);
        Assert.Equal(0, summary.PendingPredictions);
        Assert.Equal(0, summary.PendingLabels);
        var arm = Assert.Single(Assert.Single(summary.Experiments).Arms);
        Assert.Equal(1, arm.Correct);
    }

    [Fact]
    public void AddPrediction_AfterLabel_Joins()
    {
        var joiner = Joiner();

        Assert.Equal(JoinOutcome.Pending, joiner.AddLabel(Make.Label("r1", "virginica")));
        Assert.Equal(1, joiner.Snapshot().PendingLabels);
        Assert.Equal(JoinOutcome.Joined, joiner.AddPrediction(Make.Prediction("r1", predicted: "setosa")));

        var summary = joiner.Snapshot();
        Assert.Equal(1, summary.Joined);
        Assert.Equal(0, summary.PendingLabels);
        var arm = Assert.Single(Assert.Single(summary.Experiments).Arms);
        Assert.Equal(1, arm.Joined);
        Assert.Equal(0, arm.Correct);
    }

    [Fact]
    public void AddPrediction_SameRequestAndArmTwice_CountedOnce()
    {
        var joiner = Joiner();
        joiner.AddPrediction(Make.Prediction("r1"));
        joiner.AddLabel(Make.Label("r1"));

        Assert.Equal(JoinOutcome.Duplicate, joiner.AddPrediction(Make.Prediction("r1")));
        Assert.Equal(JoinOutcome.Duplicate, joiner.AddLabel(Make.Label("r1")));

        var summary = joiner.Snapshot();
        Assert.Equal(1, summary.Predictions);
        Assert.Equal(1, summary.Labels);
        Assert.Equal(1, summary.Joined);
        Assert.Equal(1, summary.DuplicatePredictions);
        Assert.Equal(1, summary.Experiments[0].Arms[0].Predictions);
    }

    [Fact]
    public void AddPrediction_ShadowArmOfSameRequest_JoinsSeparately()
    {
        var joiner = Joiner();
        joiner.AddPrediction(Make.Prediction("r1", arm: "logreg", predicted: "setosa"));
        joiner.AddLabel(Make.Label("r1", "setosa"));

        Assert.Equal(JoinOutcome.Joined, joiner.AddPrediction(Make.Prediction("r1", arm: "boosted", predicted: "virginica", shadow: true)));

        var arms = joiner.Snapshot().Experiments.Single().Arms;
        Assert.Equal(["logreg", "boosted"], arms.Select(a => a.Arm));
        Assert.False(arms[0].Shadow);
        Assert.True(arms[1].Shadow);
        Assert.Equal(1.0, arms[0].Accuracy);
        Assert.Equal(0.0, arms[1].Accuracy);
        Assert.Equal(2, joiner.Snapshot().Joined);
    }

    [Fact]
    public void Snapshot_KnownData_AccuracyLatencyAndFallbacksPerArm()
    {
        var joiner = Joiner();
        // logreg: 4 joined, 3 correct, latencies 1..4 ms, one fallback. boosted: 2 joined, 2 correct.
        for (var i = 0; i < 4; i++)
        {
            joiner.AddPrediction(Make.Prediction($"a{i}", arm: "logreg", predicted: i == 3 ? "virginica" : "setosa", latencyMs: i + 1, fallback: i == 0));
            joiner.AddLabel(Make.Label($"a{i}", "setosa"));
        }

        for (var i = 0; i < 2; i++)
        {
            joiner.AddLabel(Make.Label($"b{i}", "versicolor"));
            joiner.AddPrediction(Make.Prediction($"b{i}", arm: "boosted", predicted: "versicolor", latencyMs: 10));
        }

        var summary = joiner.Snapshot();
        var arms = summary.Experiments.Single().Arms.ToDictionary(a => a.Arm);
        Assert.Equal(6, summary.Predictions);
        Assert.Equal(6, summary.Labels);
        Assert.Equal(6, summary.Joined);
        Assert.Equal(4, arms["logreg"].Joined);
        Assert.Equal(3, arms["logreg"].Correct);
        Assert.Equal(0.75, arms["logreg"].Accuracy);
        Assert.Equal(1, arms["logreg"].Fallbacks);
        Assert.Equal(2, arms["logreg"].LatencyP50Ms, tolerance: 0.01);
        Assert.Equal(4, arms["logreg"].LatencyP99Ms, tolerance: 0.02);
        Assert.Equal("iris-logreg", arms["logreg"].Model);
        Assert.Equal("1", arms["logreg"].Version);
        Assert.Equal(1.0, arms["boosted"].Accuracy);
        Assert.Equal(10, arms["boosted"].LatencyP50Ms, tolerance: 0.05);
    }

    [Fact]
    public void Expire_LabelWithoutPredictionAfterWindow_CountsUnmatchedLabel()
    {
        var joiner = Joiner(windowSeconds: 60);
        joiner.AddLabel(Make.Label("lonely"));
        joiner.AddPrediction(Make.Prediction("waiting"));
        _time.Advance(TimeSpan.FromSeconds(30));
        joiner.AddLabel(Make.Label("young"));

        _time.Advance(TimeSpan.FromSeconds(31));
        var expired = joiner.Expire();

        Assert.Equal(new ExpiryResult(2, 1, 1), expired);
        var summary = joiner.Snapshot();
        Assert.Equal(1, summary.UnmatchedLabels);
        Assert.Equal(1, summary.PendingLabels);
        Assert.Equal(0, summary.PendingPredictions);
        Assert.Equal(1, joiner.UnjoinedPredictions);
    }

    [Fact]
    public void AddPrediction_BeyondMaxPending_EvictsTheOldest()
    {
        var joiner = Joiner(maxPending: 3);
        joiner.AddLabel(Make.Label("l0"));
        for (var i = 1; i <= 3; i++)
        {
            joiner.AddPrediction(Make.Prediction($"p{i}"));
        }

        // l0 was evicted to make room, so its late prediction no longer finds it.
        Assert.Equal(JoinOutcome.Pending, joiner.AddPrediction(Make.Prediction("l0")));

        var summary = joiner.Snapshot();
        Assert.Equal(1, summary.UnmatchedLabels);
        Assert.Equal(0, summary.Joined);
        Assert.Equal(3, summary.PendingPredictions);
    }

    [Fact]
    public void AddLabel_WithoutRequestId_CountsUnmatched()
    {
        var joiner = Joiner();

        Assert.Equal(JoinOutcome.Unmatchable, joiner.AddLabel(Make.Label("")));

        Assert.Equal(1, joiner.Snapshot().UnmatchedLabels);
    }

    [Fact]
    public void Snapshot_FallbackAnsweredForTheChallenger_CountsTheAnswerAsTheFallbackArmsInEveryFigure()
    {
        var joiner = Joiner();
        // The champion logreg answers two of its own records, correctly, in 5 ms.
        for (var i = 0; i < 2; i++)
        {
            joiner.AddPrediction(Make.Prediction($"c{i}", arm: "logreg", predicted: "setosa", latencyMs: 5));
            joiner.AddLabel(Make.Label($"c{i}", "setosa"));
        }

        // The challenger boosted answers one of its records itself (wrong, 10 ms); the champion answers three more
        // for it, as the router says: the arm it was assigned, fallback=true and the champion's model (right, 40 ms).
        joiner.AddPrediction(Make.Prediction("b0", arm: "boosted", predicted: "virginica", latencyMs: 10));
        joiner.AddLabel(Make.Label("b0", "setosa"));
        for (var i = 1; i <= 3; i++)
        {
            var answered = Make.Prediction($"b{i}", arm: "boosted", predicted: "setosa", latencyMs: 40, fallback: true);
            answered.ModelName = "iris-logreg";
            joiner.AddPrediction(answered);
            joiner.AddLabel(Make.Label($"b{i}", "setosa"));
        }

        // Redelivered: still the same prediction, a duplicate.
        var again = Make.Prediction("b1", arm: "boosted", predicted: "setosa", latencyMs: 40, fallback: true);
        again.ModelName = "iris-logreg";
        Assert.Equal(JoinOutcome.Duplicate, joiner.AddPrediction(again));

        var summary = joiner.Snapshot();
        var arms = summary.Experiments.Single().Arms.ToDictionary(a => a.Arm);
        Assert.Equal((6L, 6L, 6L), (summary.Predictions, summary.Labels, summary.Joined));
        Assert.Equal((5L, 5L, 5L, 1.0, 0L), (arms["logreg"].Predictions, arms["logreg"].Joined, arms["logreg"].Correct, arms["logreg"].Accuracy, arms["logreg"].Fallbacks));
        Assert.Equal("iris-logreg", arms["logreg"].Model);
        Assert.InRange(arms["logreg"].LatencyP99Ms, 40 * 0.995, 40 * 1.005);
        // The challenger: only its own answer is its accuracy and latency; the three it owed are its fallbacks.
        Assert.Equal((1L, 1L, 0L, 0.0, 3L), (arms["boosted"].Predictions, arms["boosted"].Joined, arms["boosted"].Correct, arms["boosted"].Accuracy, arms["boosted"].Fallbacks));
        Assert.Equal("iris-boosted", arms["boosted"].Model);
        Assert.InRange(arms["boosted"].LatencyP99Ms, 10 * 0.995, 10 * 1.005);
        Assert.Equal(0.75, arms["boosted"].FallbackRate);
        var windows = joiner.CloseWindow().ToDictionary(w => w.Arm);
        Assert.Equal((5L, 5L), (windows["logreg"].Counters.Predictions, windows["logreg"].Counters.Correct));
        Assert.Equal((1L, 3L), (windows["boosted"].Counters.Predictions, windows["boosted"].Counters.Fallbacks));
    }
}
