namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Bandit rewards from a declared outcome (<c>reward:</c>), written to a real redis-server the test starts and read
/// back the way the router's Thompson sampling reads them: Beta(1 + s, 1 + n − s) per arm, drawn with the router's
/// <see cref="BetaSampler"/>.
/// </summary>
public sealed class OutcomeRewardTests : BanditHashTests
{
    [Fact]
    public async Task WriteAsync_ArmsWithDifferentDeclaredRewards_ThompsonSamplingSendsTrafficToTheHigherArm()
    {
        var joiner = Outcomes.Joiner(new ManualTimeProvider());
        var writer = Writer(joiner, "test:clicked:", Outcomes.Spec);
        // Both arms predict every label right: by accuracy they are equal; by clicks logreg (4 in 5) beats boosted (1 in 5).
        for (var i = 0; i < 100; i++)
        {
            Join(joiner, $"l{i}", "logreg", ("clicked", i % 5 == 0 ? 0 : 1));
            Join(joiner, $"b{i}", "boosted", ("clicked", i % 5 == 0 ? 1 : 0));
        }

        // Labels without the reward outcome are no trials: not rewards of zero.
        for (var i = 0; i < 30; i++)
        {
            Join(joiner, $"m{i}", "logreg", ("revenue", 10));
        }

        Assert.True(await writer.WriteAsync(CancellationToken.None));

        var arms = await ArmsAsync("test:clicked:shop");
        Assert.Equal((100L, 80.0), arms["logreg"]);
        Assert.Equal((100L, 20.0), arms["boosted"]);
        var random = new Random(11);
        var toLogreg = 0;
        for (var i = 0; i < 1000; i++)
        {
            var logreg = BetaSampler.Sample(random, 1 + arms["logreg"].Successes, 1 + arms["logreg"].Trials - arms["logreg"].Successes);
            var boosted = BetaSampler.Sample(random, 1 + arms["boosted"].Successes, 1 + arms["boosted"].Trials - arms["boosted"].Successes);
            toLogreg += logreg > boosted ? 1 : 0;
        }

        Assert.True(toLogreg >= 990, $"{toLogreg} of 1000 draws to the arm with the higher declared reward");
    }

    [Fact]
    public async Task WriteAsync_MeanRewardWithScale_RewardIsTheValueOverTheScaleClippedToOne()
    {
        var spec = Outcomes.Spec.Replace("reward: clicked", "reward: revenue", StringComparison.Ordinal);
        var joiner = Outcomes.Joiner(new ManualTimeProvider(), spec);
        var writer = Writer(joiner, "test:revenue:", spec);
        // rewardScale 100: 50 earns 0.5, 250 earns 1 (clipped), -20 earns 0 (clipped).
        Join(joiner, "r0", "logreg", ("revenue", 50));
        Join(joiner, "r1", "logreg", ("revenue", 250));
        Join(joiner, "r2", "logreg", ("revenue", -20));
        Assert.True(await writer.WriteAsync(CancellationToken.None));
        Join(joiner, "r3", "logreg", ("revenue", 25));
        Assert.True(await writer.WriteAsync(CancellationToken.None));

        Assert.Equal((4L, 1.75), (await ArmsAsync("test:revenue:shop"))["logreg"]);
    }

    private BanditRewardWriter Writer(PredictionLabelJoiner joiner, string prefix, string spec) =>
        Writer(joiner, new MetricsSinkOptions { BanditKeyPrefix = prefix }, Outcomes.Catalog(spec));

    private static void Join(PredictionLabelJoiner joiner, string requestId, string arm, params (string Name, double Value)[] outcomes)
    {
        joiner.AddPrediction(Make.Prediction(requestId, arm: arm, experiment: "shop"));
        joiner.AddLabel(Outcomes.Label(requestId, outcomes));
    }

    // The {arm}:n and {arm}:s fields the router's bandits read.
    private async Task<Dictionary<string, (long Trials, double Successes)>> ArmsAsync(string key)
    {
        var fields = await HashAsync(key);
        return fields.Keys.Where(k => k.EndsWith(":n", StringComparison.Ordinal)).Select(k => k[..^2]).ToDictionary(
            arm => arm,
            arm => (long.Parse(fields[arm + ":n"], CultureInfo.InvariantCulture), double.Parse(fields[arm + ":s"], CultureInfo.InvariantCulture)));
    }
}
