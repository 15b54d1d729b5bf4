namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Declared outcomes with the durable join state (<c>MetricsSink:JoinState=Redis</c>), against a real redis-server:
/// their tallies survive a restart like the built-in figures, and a label Redis hands to another instance keeps its outcomes.
/// </summary>
public sealed class DurableCustomOutcomeTests : IAsyncLifetime
{
    private RedisSink _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisSink.StartAsync("test:outcomes:");

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task StartAsync_RestartedSink_OutcomeTalliesAreReadBackAndALabelStoredByTheOldOneKeepsItsOutcomes()
    {
        var time = new ManualTimeProvider();
        var (a, stateA) = await SinkAsync(time);
        // revenue 0, 10, 20, ... on 10 labels; every third lacks it (labels 0, 3, 6, 9).
        for (var n = 0; n < 10; n++)
        {
            a.AddPrediction(Make.Prediction($"r{n}", arm: "logreg", experiment: "shop"));
            a.AddLabel(n % 3 == 0 ? Outcomes.Label($"r{n}", ("clicked", 1)) : Outcomes.Label($"r{n}", ("revenue", n * 10), ("clicked", 0)));
        }

        // A label whose prediction has not come yet: Redis holds it for whoever gets the prediction.
        a.AddLabel(Outcomes.Label("late", ("revenue", 300), ("clicked", 1)));
        await stateA.FlushAsync();

        var (b, stateB) = await SinkAsync(time);
        await stateB.StartAsync(CancellationToken.None);
        b.AddPrediction(Make.Prediction("late", arm: "logreg", experiment: "shop"));
        await stateB.StopAsync(CancellationToken.None);

        var outcomes = Assert.Single(Assert.Single(b.Snapshot().Experiments).Arms).Outcomes!.ToDictionary(o => o.Name);
        // revenue: 10, 20, 40, 50, 70, 80 before the restart, and 300 joined after it: 7 values, 4 missing.
        Assert.Equal((7L, 4L, 570.0), (outcomes["revenue"].Count, outcomes["revenue"].Missing, outcomes["revenue"].Sum));
        Assert.Equal(570.0 / 7, outcomes["revenue"].Mean!.Value, 6);
        // clicked: 1 on labels 0, 3, 6, 9 and on the late one: 5 of 11.
        Assert.Equal(11L, outcomes["clicked"].Count);
        Assert.Equal(5.0 / 11, outcomes["clicked"].Rate!.Value, 6);
    }

    private async Task<(PredictionLabelJoiner Joiner, RedisJoinState State)> SinkAsync(TimeProvider time)
    {
        var (joiner, state, _) = await _redis.JoinerAsync(time, maxPending: 10_000, outcomes: Outcomes.Catalog());
        return (joiner, state);
    }
}
