using StackExchange.Redis;

namespace Mesh.Router.Tests;

public sealed class BanditTests
{
    private static readonly double[] s_rewardRates = [0.3, 0.5, 0.7];

    /// <summary>Plays <paramref name="rounds"/> rounds against Bernoulli arms; rewards are seen at each refresh (every 10 rounds), as from a delayed join.</summary>
    private static async Task<(double Regret, int[] Picks, int BestInLastThousand)> PlayAsync(string algorithm, int rounds, int seed)
    {
        var policy = new BanditPolicy("sim", ["low", "mid", "high"], algorithm, 0.1, new InMemoryBanditStateStore());
        var chooser = new Random(seed);
        var world = new Random(seed + 1);
        var best = s_rewardRates.Max();
        var regret = 0.0;
        var picks = new int[s_rewardRates.Length];
        var bestLate = 0;
        for (var round = 0; round < rounds; round++)
        {
            var arm = policy.Choose(chooser, out var probability, out _);
            Assert.InRange(probability, 0, 1);
            picks[arm]++;
            regret += best - s_rewardRates[arm];
            if (round >= rounds - 1000 && arm == 2)
            {
                bestLate++;
            }

            await policy.AddRewardAsync(arm, world.NextDouble() < s_rewardRates[arm] ? 1 : 0, CancellationToken.None);
            if (round % 10 == 9)
            {
                await policy.RefreshAsync(CancellationToken.None);
            }
        }

        return (regret, picks, bestLate);
    }

    [Fact]
    public async Task Thompson_SimulatedArms_ConvergesOnTheBestArmWithLessRegretThanEpsilonGreedy()
    {
        const int Rounds = 4000;
        var thompson = await PlayAsync(ExperimentSpecLoader.BanditThompson, Rounds, seed: 7);
        var greedy = await PlayAsync(ExperimentSpecLoader.BanditEpsilonGreedy, Rounds, seed: 7);

        Assert.True(thompson.BestInLastThousand >= 850, $"Thompson chose the best arm {thompson.BestInLastThousand} times of the last 1000 (picks {string.Join("/", thompson.Picks)})");
        Assert.True(thompson.Regret < greedy.Regret, $"regret: Thompson {thompson.Regret:F1}, epsilon-greedy {greedy.Regret:F1}");
        // Epsilon-greedy keeps exploring a tenth of the time: each worse arm gets about epsilon/3 of the traffic.
        Assert.True(greedy.Picks[0] > Rounds * 0.1 / 3 * 0.5, $"epsilon-greedy picks {string.Join("/", greedy.Picks)}");
    }

    [Fact]
    public async Task Thompson_ProbabilitiesEstimatedFromManyThreads_SameStateAlwaysGivesTheSameEstimate()
    {
        var store = new InMemoryBanditStateStore();
        var policy = new BanditPolicy("estimate", ["a", "b", "c"], ExperimentSpecLoader.BanditThompson, 0.1, store);
        for (var i = 0; i < 30; i++)
        {
            await policy.AddRewardAsync(i % 3, i % 3 == 1 ? 1 : 0, CancellationToken.None);
        }

        await policy.RefreshAsync(CancellationToken.None);
        var first = Enumerable.Range(0, 3).Select(policy.ProbabilityOf).ToArray();

        // Refreshes race as the maintenance loop, rewards and reloads do; none may disturb another's estimate.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => policy.RefreshAsync(CancellationToken.None))));

        Assert.Equal(first, Enumerable.Range(0, 3).Select(policy.ProbabilityOf).ToArray());
        Assert.Equal(1.0, first.Sum(), 6);
    }

    [Fact]
    public async Task EpsilonGreedy_LoggedProbabilities_AreTheExactChoiceProbabilities()
    {
        var store = new InMemoryBanditStateStore();
        var policy = new BanditPolicy("exact", ["a", "b", "c", "d"], ExperimentSpecLoader.BanditEpsilonGreedy, 0.2, store);
        for (var i = 0; i < 10; i++)
        {
            await policy.AddRewardAsync(i % 4, i % 4 == 2 ? 1 : 0, CancellationToken.None);
        }

        await policy.RefreshAsync(CancellationToken.None);
        var random = new Random(3);
        var counts = new int[4];
        const int Draws = 20_000;
        for (var i = 0; i < Draws; i++)
        {
            var arm = policy.Choose(random, out var probability, out var version);
            Assert.Equal(arm == 2 ? 0.8 + 0.05 : 0.05, probability, 12);
            Assert.Equal(policy.PolicyVersion, version);
            counts[arm]++;
        }

        Assert.InRange(counts[2] / (double)Draws, 0.83, 0.87);
        Assert.Equal(1.0, Enumerable.Range(0, 4).Sum(policy.ProbabilityOf), 12);
    }

    [Fact]
    public void BetaSampler_ManyDraws_MeanMatchesTheDistribution()
    {
        var random = new Random(11);
        var mean = Enumerable.Range(0, 50_000).Average(_ => BetaSampler.Sample(random, 3, 7));

        Assert.Equal(0.3, mean, 2);
    }
}

/// <summary>Bandit state shared through a real Redis that the tests start.</summary>
public sealed class RedisBanditTests(RedisServerFixture redis, KafkaTestCluster cluster) : IClassFixture<RedisServerFixture>, IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task RedisStore_TwoRoutersAndAMetricsSinkStyleWriter_SeeOneAnotherRewardsAndPulls()
    {
        var experiment = "shared-" + Guid.NewGuid().ToString("N");
        await using var first = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        await using var second = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var routerA = new BanditPolicy(experiment, ["a", "b"], ExperimentSpecLoader.BanditThompson, 0.1, new RedisBanditStateStore(first, "mesh:bandit:"));
        var routerB = new BanditPolicy(experiment, ["a", "b"], ExperimentSpecLoader.BanditThompson, 0.1, new RedisBanditStateStore(second, "mesh:bandit:"));

        for (var i = 0; i < 30; i++)
        {
            await routerA.AddRewardAsync(1, 1, CancellationToken.None);
        }

        await routerA.AddRewardAsync(0, 0, CancellationToken.None);
        // The metrics sink can add a reward with plain hash increments.
        await first.GetDatabase().HashIncrementAsync("mesh:bandit:" + experiment, "a:n", 1);
        var random = new Random(5);
        for (var i = 0; i < 7; i++)
        {
            routerA.Choose(random, out _, out _);
        }

        await routerA.RefreshAsync(CancellationToken.None);
        await routerB.RefreshAsync(CancellationToken.None);

        Assert.Equal((2L, 0.0), (routerB.States[0].Observations, routerB.States[0].RewardSum));
        Assert.Equal((30L, 30.0), (routerB.States[1].Observations, routerB.States[1].RewardSum));
        Assert.Equal(7L, routerB.States[0].Pulls + routerB.States[1].Pulls);
        Assert.Equal(routerA.PolicyVersion, routerB.PolicyVersion);
        Assert.True(routerB.ProbabilityOf(1) > 0.95, $"arm b probability {routerB.ProbabilityOf(1)}");
    }

    [Fact]
    public async Task TwoRouters_RewardsPostedToOne_TheOtherChoosesByThem()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        var experiment = "bandit-" + Guid.NewGuid().ToString("N")[..8];
        var spec = Specs.TwoArmBandit(experiment, modelHost.Endpoint);
        var settings = new Dictionary<string, string?>
        {
            ["Router:Bandit:Redis"] = redis.Configuration,
            ["Router:Bandit:RefreshMs"] = "100",
            ["Router:Bandit:Seed"] = "17",
        };
        await using var routerA = await RouterTestHost.StartAsync(cluster, spec, settings);
        await using var routerB = await RouterTestHost.StartAsync(cluster, spec, settings);
        using var adminA = routerA.CreateHttpClient();
        using var adminB = routerB.CreateHttpClient();

        for (var i = 0; i < 40; i++)
        {
            var arm = i % 2 == 0 ? "a" : "b";
            var reward = arm == "b" ? 1 : 0;
            var response = await adminA.PostAsync($"/admin/experiments/{experiment}/rewards", new StringContent($$"""{"arm":"{{arm}}","reward":{{reward}}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        // Router B never got a reward itself: it learns them from Redis at its next refresh.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonElement armB;
        do
        {
            await Task.Delay(100);
            using var json = JsonDocument.Parse(await adminB.GetStringAsync($"/admin/experiments/{experiment}"));
            armB = json.RootElement.GetProperty("arms")[1].Clone();
        }
        while (armB.GetProperty("observations").GetString() != "20" && DateTime.UtcNow < deadline);

        Assert.Equal("20", armB.GetProperty("observations").GetString());
        Assert.Equal(1.0, armB.GetProperty("rewardMean").GetDouble());
        Assert.True(armB.GetProperty("probability").GetDouble() > 0.95, armB.ToString());

        routerB.Produce(RouterTestHost.Records("bandit", 100, 50));
        var predictions = routerB.ReadPredictions(100, TimeSpan.FromSeconds(60));
        Assert.Equal(100, predictions.Count);
        Assert.True(predictions.Count(p => p.Arm == "b") >= 90, $"{predictions.Count(p => p.Arm == "b")} of 100 to the rewarded arm");
        Assert.All(predictions, p => Assert.StartsWith("bandit-", p.PolicyVersion, StringComparison.Ordinal));
        Assert.All(predictions, p => Assert.InRange(p.AssignmentProbability, 0.0001, 1));
    }
}
