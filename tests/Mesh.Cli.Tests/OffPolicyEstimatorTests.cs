namespace Mesh.Cli.Tests;

public sealed class OffPolicyEstimatorTests
{
    private const int Seeds = 200;
    private const int Decisions = 1000;

    public static TheoryData<string, bool> Candidates => new()
    {
        { "always boosted", false },
        { "always boosted", true },
        { "weights logreg=20,boosted=30,mlp=50", false },
        { "weights logreg=20,boosted=30,mlp=50", true },
        { "weights logreg=100,boosted=0", false },
    };

    [Theory]
    [MemberData(nameof(Candidates))]
    public void Evaluate_SimulatedTraffic_TrueValueInside95PercentIntervalAtAboutTheStatedRate(string candidateText, bool withScores)
    {
        var candidate = Parse(candidateText);
        var truth = LoggedTrafficSimulation.TrueValue(candidate);
        var covered = new Dictionary<string, int> { ["ips"] = 0, ["snips"] = 0, ["dr"] = 0 };
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var result = OffPolicyEstimator.Evaluate(LoggedTrafficSimulation.Generate(seed, Decisions, withScores), candidate, new EstimatorSettings());
            Assert.Null(result.Refusal);
            foreach (var estimate in result.Estimates)
            {
                if (estimate.Lower <= truth && truth <= estimate.Upper)
                {
                    covered[estimate.Estimator]++;
                }
            }
        }

        // 95 % intervals over 200 seeds: the binomial spread is about 1.5 points, so under 90 % means the intervals are wrong.
        Assert.All(covered, c => Assert.True(c.Value >= 0.9 * Seeds, $"{c.Key}: {c.Value}/{Seeds} intervals held the true value {truth:0.###}"));
        // An interval that always covers because it is huge would pass too: the intervals must also be informative.
        var sample = OffPolicyEstimator.Evaluate(LoggedTrafficSimulation.Generate(7, Decisions, withScores), candidate, new EstimatorSettings());
        Assert.All(sample.Estimates, e => Assert.True(e.Upper - e.Lower < 0.2, $"{e.Estimator} interval {e.Lower:0.###}..{e.Upper:0.###}"));
    }

    [Fact]
    public void Evaluate_LoggingPolicyIsTheCandidate_IpsEqualsLoggedMeanAndEssIsN()
    {
        var decisions = new List<LoggedDecision> { new("a", "x", 0.5, 1), new("b", "y", 0.5, 0), new("c", "x", 0.5, 1), new("d", "y", 0.5, 1) };

        var result = OffPolicyEstimator.Evaluate(decisions, CandidatePolicy.Weights("x=1,y=1"), new EstimatorSettings());

        Assert.Equal(0.75, result.LoggedValue, 9);
        Assert.All(result.Estimates, e => Assert.Equal(0.75, e.Value, 9));
        Assert.Equal(4, result.EffectiveSampleSize, 9);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Evaluate_CandidateNeedsArmNeverLogged_RefusesNamingTheArm()
    {
        var decisions = LoggedTrafficSimulation.Generate(3, 500, withScores: false).Where(d => d.Arm != "mlp").ToList();

        var result = OffPolicyEstimator.Evaluate(decisions, CandidatePolicy.Weights("logreg=50,mlp=50"), new EstimatorSettings());

        Assert.NotNull(result.Refusal);
        Assert.Contains("'mlp'", result.Refusal, StringComparison.Ordinal);
        Assert.Contains("never chose", result.Refusal, StringComparison.Ordinal);
        Assert.Empty(result.Estimates);
    }

    [Fact]
    public void Evaluate_CandidateLeansOnRarelyLoggedArm_Warns()
    {
        var decisions = Enumerable.Range(0, 200).Select(i => i % 50 == 0 ? new LoggedDecision($"r{i}", "rare", 0.02, 1) : new LoggedDecision($"r{i}", "common", 0.98, i % 3 == 0 ? 0 : 1)).ToList();

        var result = OffPolicyEstimator.Evaluate(decisions, CandidatePolicy.Always("rare"), new EstimatorSettings(MinPropensity: 0.05));

        Assert.Null(result.Refusal);
        Assert.Contains(result.Warnings, w => w.Contains("'rare'", StringComparison.Ordinal) && w.Contains("0.02", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("effective sample size", StringComparison.Ordinal));
    }

    [Fact]
    public void EpsilonGreedy_PutsMostWeightOnTheBestObservedArm()
    {
        var policy = CandidatePolicy.EpsilonGreedy(0.1, new Dictionary<string, double> { ["a"] = 0.7, ["b"] = 0.9 });

        Assert.Equal(0.95, policy.ProbabilityOf("b"), 9);
        Assert.Equal(0.05, policy.ProbabilityOf("a"), 9);
    }

    [Fact]
    public void Thompson_ClearWinner_GetsNearlyAllWeightAndTiedArmsShare()
    {
        var clear = CandidatePolicy.Thompson(new Dictionary<string, (int, double)> { ["a"] = (1000, 600), ["b"] = (1000, 900) });
        var tied = CandidatePolicy.Thompson(new Dictionary<string, (int, double)> { ["a"] = (400, 200), ["b"] = (400, 200) });

        Assert.True(clear.ProbabilityOf("b") > 0.999, $"b: {clear.ProbabilityOf("b")}");
        Assert.Equal(1, clear.Probabilities.Values.Sum(), 9);
        Assert.InRange(tied.ProbabilityOf("a"), 0.45, 0.55);
    }

    [Fact]
    public void Thompson_OnSimulatedTraffic_TrueValueInsideTheIntervals()
    {
        var covered = 0;
        for (var seed = 1; seed <= 100; seed++)
        {
            var decisions = LoggedTrafficSimulation.Generate(seed, Decisions, withScores: false);
            var candidate = CandidatePolicy.Thompson(OffPolicyEstimator.ArmRewards(decisions));
            var dr = OffPolicyEstimator.Evaluate(decisions, candidate, new EstimatorSettings()).Estimates.Single(e => e.Estimator == "dr");
            var truth = LoggedTrafficSimulation.TrueValue(candidate);
            covered += dr.Lower <= truth && truth <= dr.Upper ? 1 : 0;
        }

        Assert.True(covered >= 90, $"{covered}/100");
    }

    [Fact]
    public void BetaSampler_MeanAndSpread_MatchTheDistribution()
    {
        var random = new Random(42);
        var draws = Enumerable.Range(0, 40_000).Select(_ => BetaSampler.Sample(random, 3, 7)).ToList();
        var mean = draws.Average();
        var variance = draws.Sum(d => (d - mean) * (d - mean)) / draws.Count;

        // Beta(3, 7): mean 0.3, variance ab / ((a+b)^2 (a+b+1)) = 21 / 1100.
        Assert.Equal(0.3, mean, 2);
        Assert.Equal(21.0 / 1100, variance, 3);
        Assert.All(draws, d => Assert.InRange(d, 0, 1));
    }

    [Theory]
    [InlineData("logreg=80,logreg=20")]
    [InlineData("logreg=-1")]
    [InlineData("logreg")]
    [InlineData("a=0,b=0")]
    public void Weights_Invalid_ThrowsNamingOption(string text)
    {
        Assert.Contains("--weights", Assert.Throws<FormatException>(() => CandidatePolicy.Weights(text)).Message, StringComparison.Ordinal);
    }

    private static CandidatePolicy Parse(string text) =>
        text.StartsWith("always ", StringComparison.Ordinal) ? CandidatePolicy.Always(text[7..]) : CandidatePolicy.Weights(text[8..]);
}
