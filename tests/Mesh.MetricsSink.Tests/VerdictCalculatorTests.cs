namespace Mesh.MetricsSink.Tests;

public sealed class VerdictCalculatorTests
{
    [Theory]
    [InlineData("winner", "boosted", "significant")]
    [InlineData("no difference yet", null, "inconclusive")]
    [InlineData("collecting", null, "collecting")]
    public void For_SummaryCarriesSequentialVerdict_ShowsItInsteadOfTheZTest(string state, string? winner, string expected)
    {
        // Numbers a fixed-sample z-test would call significant: the page must still show the sink's sequential verdict.
        var sequential = new ExperimentVerdict(state, winner, 0.2, 0.15, 12, 0.05, "sequential: " + state);
        var experiment = Experiment(Arm("logreg", 400, 320), Arm("boosted", 400, 380)) with { Verdict = sequential };

        var verdict = For(experiment);

        Assert.Equal(expected, verdict.State);
        Assert.Equal(winner, verdict.Leader);
        Assert.Equal("sequential: " + state, verdict.Text);
    }

    [Fact]
    public void For_FewLabels_SaysCollecting()
    {
        var verdict = For(Experiment(Arm("logreg", 50, 48), Arm("boosted", 99, 60)));

        Assert.Equal("collecting", verdict.State);
        Assert.Contains("50 of 100", verdict.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void For_ClearDifference_NamesTheLeaderAsSignificant()
    {
        // 95% against 80% over 400 labels each: z is about 6.6.
        var verdict = For(Experiment(Arm("logreg", 400, 320), Arm("boosted", 400, 380)));

        Assert.Equal("significant", verdict.State);
        Assert.Equal("boosted", verdict.Leader);
        Assert.Equal(15.0, verdict.DifferencePoints);
        Assert.InRange(verdict.Z, 6.0, 7.0);
    }

    [Fact]
    public void For_SmallDifference_IsInconclusive()
    {
        var verdict = For(Experiment(Arm("logreg", 200, 180), Arm("boosted", 200, 184)));

        Assert.Equal("inconclusive", verdict.State);
        Assert.Equal("boosted", verdict.Leader);
        Assert.InRange(verdict.Z, 0, 1.96);
    }

    [Fact]
    public void For_ShadowBetterThanEveryArm_DoesNotWin()
    {
        var verdict = For(Experiment(Arm("logreg", 400, 320), Arm("boosted", 400, 300), Arm("challenger", 800, 800, shadow: true)));

        Assert.Equal("logreg", verdict.Leader);
    }

    [Fact]
    public void For_BothArmsPerfect_IsInconclusiveWithoutDividingByZero()
    {
        var verdict = For(Experiment(Arm("logreg", 150, 150), Arm("boosted", 150, 150)));

        Assert.Equal("inconclusive", verdict.State);
        Assert.Equal(0, verdict.Z);
    }

    private static ExperimentSummary Experiment(params ArmSummary[] arms) => new("iris-ab", arms);

    // As the page asks: every arm of the summary, shadows included.
    private static Verdict For(ExperimentSummary experiment) =>
        VerdictCalculator.For(experiment.Experiment, [.. experiment.Arms.Select(a => new ArmOutcomes(a.Arm, a.Joined, a.Correct, a.Shadow))], experiment.Verdict);

    private static ArmSummary Arm(string name, long joined, long correct, bool shadow = false) =>
        new(name, "iris-" + name, "1", shadow, joined, joined, correct, Math.Round((double)correct / joined, 4), 1, 2, 0);
}
