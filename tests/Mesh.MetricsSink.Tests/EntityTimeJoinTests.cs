using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mesh.MetricsSink.Tests;

/// <summary>Joining by entity id and time: a label belongs to its entity's latest prediction made before it was observed.</summary>
public sealed class EntityTimeJoinTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void AddLabel_SeveralPredictionsOfTheEntity_JoinsTheLatestBeforeTheObservedTime()
    {
        var joiner = Joiner();
        joiner.AddPrediction(At("r1", "e1", seconds: 0, predicted: "setosa"));
        joiner.AddPrediction(At("r2", "e1", seconds: 10, predicted: "virginica"));
        joiner.AddPrediction(At("r3", "e1", seconds: 30, predicted: "versicolor"));

        // Observed at 20 s: r2 (10 s) is the prediction it answers, not r3 (made after) nor r1 (older).
        Assert.Equal(JoinOutcome.Joined, joiner.AddLabel(Label("e1", seconds: 20, "virginica")));
        // The next label at 25 s: r2 is taken, so the latest unlabelled before it is r1.
        Assert.Equal(JoinOutcome.Joined, joiner.AddLabel(Label("e1", seconds: 25, "virginica")));

        var summary = joiner.Snapshot();
        Assert.Equal(2, summary.Joined);
        Assert.Equal(1, Assert.Single(Assert.Single(summary.Experiments).Arms).Correct);
        Assert.Equal(1, summary.PendingPredictions);
    }

    [Fact]
    public void AddLabel_BeforeItsPrediction_WaitsAndJoinsWhenItArrives()
    {
        var joiner = Joiner();

        Assert.Equal(JoinOutcome.Pending, joiner.AddLabel(Label("e1", seconds: 20, "setosa")));
        Assert.Equal(1, joiner.Snapshot().PendingLabels);
        // Made after the observation: not the one it answers.
        Assert.Equal(JoinOutcome.Pending, joiner.AddPrediction(At("r9", "e1", seconds: 40, predicted: "setosa")));
        Assert.Equal(JoinOutcome.Joined, joiner.AddPrediction(At("r1", "e1", seconds: 5, predicted: "setosa")));

        var summary = joiner.Snapshot();
        Assert.Equal((1L, 1L, 0L, 1L), (summary.Labels, summary.Joined, summary.PendingLabels, summary.PendingPredictions));
    }

    [Fact]
    public void AddLabel_RedeliveredOrNeverMatched_CountedAsDuplicateAndUnmatched()
    {
        var joiner = Joiner();
        joiner.AddPrediction(At("r1", "e1", seconds: 0, predicted: "setosa"));
        joiner.AddPrediction(At("r2", "e1", seconds: 1, predicted: "setosa"));

        Assert.Equal(JoinOutcome.Joined, joiner.AddLabel(Label("e1", seconds: 5, "setosa")));
        Assert.Equal(JoinOutcome.Duplicate, joiner.AddLabel(Label("e1", seconds: 5, "setosa")));
        Assert.Equal(JoinOutcome.Pending, joiner.AddLabel(Label("e2", seconds: 5, "setosa")));
        _time.Advance(TimeSpan.FromSeconds(601));
        var expired = joiner.Expire();

        var summary = joiner.Snapshot();
        Assert.Equal(1, summary.Joined);
        Assert.Equal(1, summary.UnmatchedLabels);
        Assert.Equal(0, summary.PendingLabels);
        Assert.Equal(1, expired.UnmatchedLabels);
    }

    private PredictionLabelJoiner Joiner() => new(_time, TimeSpan.FromSeconds(600), 1000, JoinBy.EntityTime);

    private static Prediction At(string requestId, string entity, int seconds, string predicted)
    {
        var prediction = Make.Prediction(requestId, predicted: predicted);
        prediction.EntityId = entity;
        prediction.EventTime = Timestamp.FromDateTimeOffset(s_start.AddSeconds(seconds));
        return prediction;
    }

    private static Label Label(string entity, int seconds, string value) => new()
    {
        EntityId = entity,
        Value = value,
        ObservedTime = Timestamp.FromDateTimeOffset(s_start.AddSeconds(seconds)),
    };
}
