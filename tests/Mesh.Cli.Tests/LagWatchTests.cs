namespace Mesh.Cli.Tests;

public sealed class LagWatchTests
{
    private static readonly TopicPartition s_partition = new("mesh.features.v1", 2);

    [Fact]
    public void Assess_SmallLag_NoWarning()
    {
        Assert.Null(LagWatch.Assess("mesh-router", s_partition, committed: 990, low: 0, high: 1000, warnMessages: 40_000));
    }

    [Fact]
    public void Assess_LagOverThreshold_WarnsNamingGroupAndPartition()
    {
        var warning = LagWatch.Assess("mesh-router", s_partition, committed: 0, low: 0, high: 50_000, warnMessages: 40_000);

        AssertWarning(warning, says: ["mesh-router", "50000", "mesh.features.v1"]);
    }

    [Fact]
    public void Assess_LogWrappedAndConsumerNearItsStart_Warns()
    {
        // The broker already dropped old records (low > 0) and the group is in the oldest 20% of what is left.
        Assert.NotNull(LagWatch.Assess("g", s_partition, committed: 11_000, low: 10_000, high: 20_000, warnMessages: 1_000_000));
    }

    [Fact]
    public void Assess_CommittedBelowLogStartAtTwoChecksWithoutPassingIt_ReportsLostRecords()
    {
        var warning = LagWatch.Assess("g", s_partition, committed: 5_000, low: 12_000, high: 22_000, warnMessages: 1_000_000, previous: new LagObservation(5_000, 10_000));

        AssertWarning(warning, says: ["lost", "5000 records dropped"]);
    }

    [Fact]
    public void Assess_CommittedBelowLogStartAtTheFirstCheck_SaysCommittedLagNotLoss()
    {
        // Seen with the router: it had read these records, and its commit (every second) had not caught up yet.
        var warning = LagWatch.Assess("g", s_partition, committed: 9_994, low: 10_000, high: 20_000, warnMessages: 1_000_000);

        AssertWarning(warning, says: ["committed lag"], saysNot: ["lost", "dropped before"]);
    }

    [Fact]
    public void Assess_CommitCaughtUpPastThePreviousLogStart_NoLoss()
    {
        var warning = LagWatch.Assess("g", s_partition, committed: 10_500, low: 10_400, high: 20_000, warnMessages: 1_000_000, previous: new LagObservation(9_994, 10_000));

        Assert.True(warning is null || !warning.Contains("lost", StringComparison.Ordinal), warning);
    }

    private static void AssertWarning(string? warning, string[] says, string[]? saysNot = null)
    {
        Assert.NotNull(warning);
        foreach (var text in says)
        {
            Assert.Contains(text, warning, StringComparison.Ordinal);
        }

        foreach (var text in saysNot ?? [])
        {
            Assert.DoesNotContain(text, warning, StringComparison.Ordinal);
        }
    }
}
