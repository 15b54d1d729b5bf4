namespace Mesh.MetricsSink.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentile_OneToHundred_IsTheNearestRankWithinHalfAPercent()
    {
        var histogram = new LatencyHistogram();
        foreach (var ms in Enumerable.Range(1, 100).Reverse())
        {
            histogram.Record(ms);
        }

        Assert.Equal(50, histogram.Percentile(0.50), tolerance: 50 * 0.005);
        Assert.Equal(99, histogram.Percentile(0.99), tolerance: 99 * 0.005);
        Assert.Equal(100, histogram.Percentile(1.0), tolerance: 100 * 0.005);
    }

    [Fact]
    public void Percentile_LongTail_P99SeesTheTailOnlyWhenItIsOverOnePercent()
    {
        var small = new LatencyHistogram();
        var large = new LatencyHistogram();
        for (var i = 0; i < 990; i++)
        {
            small.Record(2);
        }

        for (var i = 0; i < 10; i++)
        {
            small.Record(1000);
        }

        for (var i = 0; i < 980; i++)
        {
            large.Record(2);
        }

        for (var i = 0; i < 20; i++)
        {
            large.Record(1000);
        }

        Assert.Equal(2, small.Percentile(0.99), tolerance: 0.01);
        Assert.Equal(1000, large.Percentile(0.99), tolerance: 5);
        Assert.Equal(2, large.Percentile(0.50), tolerance: 0.01);
    }

    [Fact]
    public void Percentile_SingleSampleOrNone_IsTheSampleOrZero()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Percentile(0.5));

        histogram.Record(3.7);

        Assert.Equal(3.7, histogram.Percentile(0.5));
        Assert.Equal(3.7, histogram.Percentile(0.99));
    }

    [Fact]
    public void Record_SubMicrosecondAndHugeValues_StayWithinObservedRange()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(0.0001);
        histogram.Record(-3);
        histogram.Record(1e9);

        Assert.Equal(3, histogram.Count);
        Assert.Equal(0, histogram.Percentile(0.01));
        Assert.Equal(1e9, histogram.Percentile(1.0));
    }
}
