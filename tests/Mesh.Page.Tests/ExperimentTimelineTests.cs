namespace Mesh.Page.Tests;

public sealed class ExperimentTimelineTests
{
    [Fact]
    public void Add_BeyondCapacity_KeepsOnlyTheNewestInOrder()
    {
        var timeline = new ExperimentTimeline(3);
        for (var second = 1; second <= 5; second++)
        {
            timeline.Add(Snapshot(second, predictions: second * 10));
        }

        var samples = timeline.Since(0);

        Assert.Equal(3, timeline.Count);
        Assert.Equal([30L, 40L, 50L], samples.Select(s => s.Arms.Single().Predictions));
        Assert.True(samples[0].T < samples[1].T && samples[1].T < samples[2].T);
    }

    [Fact]
    public void Since_ATimestamp_ReturnsOnlyLaterSamples()
    {
        var timeline = new ExperimentTimeline(10);
        timeline.Add(Snapshot(1, 10));
        timeline.Add(Snapshot(2, 20));
        timeline.Add(Snapshot(3, 30));
        var second = timeline.Since(0)[1].T;

        var later = timeline.Since(second);

        Assert.Equal(30, Assert.Single(later).Arms.Single().Predictions);
    }

    [Fact]
    public void Add_ArmsOfSeveralExperiments_KeepsEachArmWithItsExperiment()
    {
        var timeline = new ExperimentTimeline(10);
        var snapshot = Snapshot(1, 10) with
        {
            Experiments =
            [
                new ExperimentSummary("a", [Arm("x", 1)]),
                new ExperimentSummary("b", [Arm("y", 2), Arm("z", 3) with { Shadow = true }]),
            ],
        };

        timeline.Add(snapshot);

        var arms = Assert.Single(timeline.Since(0)).Arms;
        Assert.Equal(["a/x/False", "b/y/False", "b/z/True"], arms.Select(a => $"{a.Experiment}/{a.Arm}/{a.Shadow}"));
    }

    private static SummaryDocument Snapshot(int second, long predictions) =>
        new(new DateTime(2026, 11, 27, 14, 0, second, DateTimeKind.Utc), predictions, 0, 0, 0, 0, 0, 0,
            [new ExperimentSummary("iris-ab", [Arm("logreg", predictions)])]);

    private static ArmSummary Arm(string name, long predictions) => new(name, "m", "1", false, predictions, 0, 0, 0, 0, 0, 0);
}
