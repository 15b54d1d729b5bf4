namespace Mesh.Cli.Tests;

/// <summary>The bench's speed probe: its unit is timed in CPU time, and its summary is the median and p90 of its units.</summary>
public sealed class SpeedProbeTests
{
    [Fact]
    public void Summarize_TenUnits_MedianAndNearestRankP90()
    {
        var sample = SpeedProbe.Summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);

        Assert.Equal(5.5, sample.MedianMicroseconds);
        Assert.Equal(9, sample.P90Microseconds);
        Assert.Equal(10, sample.Units);
    }

    [Fact]
    public void Summarize_NoUnits_SaysSoInsteadOfAFigure()
    {
        var sample = SpeedProbe.Summarize([]);

        Assert.Equal(0, sample.Units);
        Assert.True(double.IsNaN(sample.MedianMicroseconds));
    }

    [Fact]
    public void MeasureUnit_CountsTheThreadsCpuNotTheTimeItSpentWaiting()
    {
        var unit = SpeedProbe.MeasureUnit();
        // A wall clock would count the 50 ms of the sleep; the thread's CPU clock counts almost nothing.
        var sleep = SpeedProbe.CpuMicrosecondsOf(() => Thread.Sleep(50));

        Assert.InRange(unit, 1, 1_000_000);
        Assert.True(sleep < 10_000, $"the probe counted {sleep:N0} µs for a sleep of 50 ms: it reads a wall clock, not the thread's CPU time");
    }

    [Fact]
    public void StartStop_AShortRun_HasAtLeastOneUnit()
    {
        using var probe = SpeedProbe.Start();
        Thread.Sleep(600);

        var sample = probe.Stop();

        Assert.InRange(sample.Units, 2, 10);
        Assert.True(sample.MedianMicroseconds > 0 && sample.P90Microseconds >= sample.MedianMicroseconds);
    }
}
