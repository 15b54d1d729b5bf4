namespace Mesh.MetricsSink.Tests;

/// <summary>The sequential test: valid however often it is looked at, and able to find a real difference.</summary>
public sealed class SequentialAccuracyTestTests
{
    private const double Alpha = 0.05;

    [Fact]
    public void Look_AaStreamsCheckedAtEveryLook_FalsePositiveRateStaysAtOrBelowAlpha()
    {
        var random = new Random(20261127);
        const int Experiments = 1000;
        var falsePositives = 0;
        var naiveFalsePositives = 0;
        for (var e = 0; e < Experiments; e++)
        {
            var test = new SequentialAccuracyTest(Alpha, mixingSd: 0.05, minJoinedPerArm: 100);
            var (a, b) = (new Arm("a"), new Arm("b"));
            var naive = false;
            // 100 looks, one every 50 labelled predictions per arm: a page refreshed all day.
            for (var look = 0; look < 100; look++)
            {
                a.Add(random, 50, 0.8);
                b.Add(random, 50, 0.8);
                var verdict = test.Look("aa", [a.Outcomes, b.Outcomes]);
                naive |= a.Joined >= 100 && Math.Abs(ZScore(a, b)) >= 1.96;
                if (verdict.State == "winner")
                {
                    falsePositives++;
                    break;
                }
            }

            naiveFalsePositives += naive ? 1 : 0;
        }

        Assert.InRange((double)falsePositives / Experiments, 0, Alpha);
        // The reason for the test: a fixed-sample z-test checked at every look is wrong far more often than alpha.
        Assert.True((double)naiveFalsePositives / Experiments > 2 * Alpha, $"naive rate {naiveFalsePositives}/{Experiments}");
    }

    [Fact]
    public void Look_RealDifference_ReachesTheRightWinner()
    {
        var random = new Random(7);
        const int Experiments = 200;
        var right = 0;
        for (var e = 0; e < Experiments; e++)
        {
            var test = new SequentialAccuracyTest(Alpha, mixingSd: 0.05, minJoinedPerArm: 100);
            var (a, b) = (new Arm("logreg"), new Arm("boosted"));
            for (var look = 0; look < 100; look++)
            {
                a.Add(random, 50, 0.80);
                b.Add(random, 50, 0.88);
                var verdict = test.Look("ab", [a.Outcomes, b.Outcomes]);
                if (verdict.State == "winner")
                {
                    Assert.Equal("boosted", verdict.Winner);
                    right++;
                    break;
                }
            }
        }

        Assert.True(right >= Experiments * 0.95, $"{right} of {Experiments} reached a verdict within 5,000 labels per arm");
    }

    [Fact]
    public void Look_OverwhelmingDifference_SaysPBelowOneInAThousandNotPZero()
    {
        var test = new SequentialAccuracyTest(Alpha, mixingSd: 0.05, minJoinedPerArm: 100);
        var verdict = test.Look("ab", [new ArmOutcomes("logreg", 5000, 3000, false), new ArmOutcomes("boosted", 5000, 4900, false)]);

        Assert.Equal("winner", verdict.State);
        Assert.Contains("p < 0.001", verdict.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("p = 0 ", verdict.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("p = 0,", verdict.Text, StringComparison.Ordinal);
        Assert.Equal("p = 0.012", SequentialAccuracyTest.PValue(0.0123));
    }

    [Fact]
    public void Look_FewLabelsOrOneArm_SaysCollecting()
    {
        var test = new SequentialAccuracyTest(Alpha, 0.05, 100);

        Assert.Equal("collecting", test.Look("e", [new("a", 99, 99), new("b", 99, 0)]).State);
        Assert.Equal("collecting", test.Look("e", [new("a", 500, 400)]).State);
        var decided = test.Look("e", [new("a", 1000, 950), new("b", 1000, 700)]);
        Assert.Equal(("winner", "a"), (decided.State, decided.Winner));
        Assert.Equal(3, decided.Looks);
    }

    [Fact]
    public void Look_PValue_NeverRisesBetweenLooks()
    {
        var test = new SequentialAccuracyTest(Alpha, 0.05, 100);

        var first = test.Look("e", [new("a", 400, 340), new("b", 400, 300)]);
        var second = test.Look("e", [new("a", 800, 600), new("b", 800, 600)]);

        Assert.True(first.PValue < 1);
        Assert.Equal(first.PValue, second.PValue);
    }

    [Fact]
    public void Look_ThreeArms_WinnerMustBeatEveryOtherArm()
    {
        var test = new SequentialAccuracyTest(Alpha, 0.05, 100);

        var tied = test.Look("e", [new("a", 2000, 1800), new("b", 2000, 1790), new("c", 2000, 1400)]);

        Assert.Equal("no difference yet", tied.State);
        Assert.Null(tied.Winner);
    }

    [Fact]
    public void Look_LeadReversesAfterStrongEvidence_NeverNamesTheArmTheEvidenceWasAgainst()
    {
        var test = new SequentialAccuracyTest(Alpha, 0.05, 100);

        // a is far better at first; then b does better, enough to lead the totals, not enough to be shown better.
        var early = test.Look("e", [new("a", 400, 300), new("b", 400, 200)]);
        var reversed = test.Look("e", [new("a", 2000, 700), new("b", 2000, 760)]);

        Assert.Equal(("winner", "a"), (early.State, early.Winner));
        Assert.NotEqual("b", reversed.Winner);
        Assert.Equal("a", reversed.Winner);
        Assert.Contains("b leads now", reversed.Text);
        // b's own case is weak: its one-sided p-value is nowhere near alpha.
        Assert.True(SequentialAccuracyTest.OneSidedPValue(new("b", 2000, 760), new("a", 2000, 700), 0.05) > Alpha);
    }

    [Fact]
    public void Look_ReversalThenEvidenceForTheNewLeader_NamesItOnlyOnceItsOwnEvidenceSuffices()
    {
        var test = new SequentialAccuracyTest(Alpha, 0.05, 100);
        test.Look("e", [new("a", 400, 300), new("b", 400, 200)]);

        var overwhelming = test.Look("e", [new("a", 20000, 7000), new("b", 20000, 14000)]);

        // Both directions have now been shown at some look; the stronger case is b's.
        Assert.Equal(("winner", "b"), (overwhelming.State, overwhelming.Winner));
        Assert.True(SequentialAccuracyTest.OneSidedPValue(new("b", 20000, 14000), new("a", 20000, 7000), 0.05) < 1e-6);
    }

    [Fact]
    public void OneSidedPValue_DifferenceTheOtherWay_IsOne()
    {
        Assert.Equal(1, SequentialAccuracyTest.OneSidedPValue(new("a", 1000, 600), new("b", 1000, 900), 0.05));
        Assert.True(SequentialAccuracyTest.OneSidedPValue(new("b", 1000, 900), new("a", 1000, 600), 0.05) < 1e-9);
    }

    private static double ZScore(Arm a, Arm b)
    {
        var pooled = (double)(a.Correct + b.Correct) / (a.Joined + b.Joined);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / a.Joined + 1.0 / b.Joined));
        return se == 0 ? 0 : (a.Outcomes.Accuracy - b.Outcomes.Accuracy) / se;
    }

    private sealed class Arm(string name)
    {
        public long Joined { get; private set; }

        public long Correct { get; private set; }

        public ArmOutcomes Outcomes => new(name, Joined, Correct);

        public void Add(Random random, int count, double accuracy)
        {
            for (var i = 0; i < count; i++)
            {
                Joined++;
                Correct += random.NextDouble() < accuracy ? 1 : 0;
            }
        }
    }
}
