namespace Mesh.Cli.Tests;

public sealed class DeadLetterFilterTests
{
    private static readonly DateTime s_noon = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Matches_EveryConditionMustHold()
    {
        var entry = new DeadLetterEntry("dlq", 2, 15, s_noon,
            DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("a"), "features", "ModelHostUnavailable", "deadline exceeded", service: "router", experiment: "iris-ab", time: s_noon));

        Assert.True(new DeadLetterFilter(Since: s_noon, Until: s_noon.AddSeconds(1), Reason: "DEADLINE", Service: "router", Experiment: "iris-ab",
            Partitions: new HashSet<int> { 2 }, Offsets: [new OffsetRange(10, 20)]).Matches(entry));
        Assert.False(new DeadLetterFilter(Until: s_noon).Matches(entry));
        Assert.False(new DeadLetterFilter(Since: s_noon.AddSeconds(1)).Matches(entry));
        Assert.False(new DeadLetterFilter(Reason: "schema").Matches(entry));
        Assert.False(new DeadLetterFilter(Service: "consumer").Matches(entry));
        Assert.False(new DeadLetterFilter(Experiment: "other").Matches(entry));
        Assert.False(new DeadLetterFilter(Partitions: new HashSet<int> { 0, 1 }).Matches(entry));
        Assert.False(new DeadLetterFilter(Offsets: [new OffsetRange(0, 14), new OffsetRange(16, 30)]).Matches(entry));
        Assert.True(new DeadLetterFilter(Offsets: [new OffsetRange(0, 14), new OffsetRange(15, 15)]).Matches(entry));
    }
}
