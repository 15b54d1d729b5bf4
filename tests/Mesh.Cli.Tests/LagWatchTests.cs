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

        Assert.NotNull(warning);
        Assert.Contains("mesh-router", warning, StringComparison.Ordinal);
        Assert.Contains("50000", warning, StringComparison.Ordinal);
        Assert.Contains("mesh.features.v1", warning, StringComparison.Ordinal);
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

        Assert.NotNull(warning);
        Assert.Contains("lost", warning, StringComparison.Ordinal);
        Assert.Contains("5000 records dropped", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Assess_CommittedBelowLogStartAtTheFirstCheck_SaysCommittedLagNotLoss()
    {
        // Seen with the router: it had read these records, and its commit (every second) had not caught up yet.
        var warning = LagWatch.Assess("g", s_partition, committed: 9_994, low: 10_000, high: 20_000, warnMessages: 1_000_000);

        Assert.NotNull(warning);
        Assert.Contains("committed lag", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("lost", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("dropped before", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Assess_CommitCaughtUpPastThePreviousLogStart_NoLoss()
    {
        var warning = LagWatch.Assess("g", s_partition, committed: 10_500, low: 10_400, high: 20_000, warnMessages: 1_000_000, previous: new LagObservation(9_994, 10_000));

        Assert.True(warning is null || !warning.Contains("lost", StringComparison.Ordinal), warning);
    }
}
