using Confluent.Kafka;
using Mesh.Cli.Broker;

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
    public void Assess_CommittedBelowLogStart_ReportsLostRecords()
    {
        var warning = LagWatch.Assess("g", s_partition, committed: 5_000, low: 10_000, high: 20_000, warnMessages: 1_000_000);

        Assert.NotNull(warning);
        Assert.Contains("lost", warning, StringComparison.Ordinal);
        Assert.Contains("5000 records dropped", warning, StringComparison.Ordinal);
    }
}
