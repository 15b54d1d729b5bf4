namespace Mesh.Producer.Tests;

public sealed class RatePacerTests
{
    [Fact]
    public void Acquire_SteadySteps_GrantsRateTimesElapsedPlusTheFirstPermit()
    {
        var time = new ManualTimeProvider();
        var pacer = new RatePacer(1000, time);
        long granted = pacer.Acquire(long.MaxValue);

        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            granted += pacer.Acquire(long.MaxValue);
        }

        Assert.Equal(1 + 1000, granted);
    }

    [Fact]
    public void Acquire_FractionalRate_DoesNotDriftOverManySteps()
    {
        var time = new ManualTimeProvider();
        var pacer = new RatePacer(3, time);
        long granted = 0;

        for (var i = 0; i < 200; i++)
        {
            granted += pacer.Acquire(long.MaxValue);
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        granted += pacer.Acquire(long.MaxValue);

        // 20 s at 3/s, plus the permit available at once.
        Assert.Equal(61, granted);
    }

    [Fact]
    public void Acquire_AfterLongIdle_GrantsAtMostTheBucket()
    {
        var time = new ManualTimeProvider();
        var pacer = new RatePacer(100, time, burstSeconds: 0.1);

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(10, pacer.Capacity);
        Assert.Equal(10, pacer.Acquire(long.MaxValue));
        Assert.Equal(0, pacer.Acquire(long.MaxValue));
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(5, pacer.Acquire(long.MaxValue));
    }

    [Fact]
    public void Acquire_WithMax_KeepsTheRestForLater()
    {
        var time = new ManualTimeProvider();
        var pacer = new RatePacer(100, time);
        time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Equal(2, pacer.Acquire(2));
        Assert.Equal(4, pacer.Acquire(long.MaxValue));
    }

    [Fact]
    public void TimeUntilNextPermit_AfterTakingAll_IsTheRemainderOfThePeriod()
    {
        var time = new ManualTimeProvider();
        var pacer = new RatePacer(10, time);
        Assert.Equal(TimeSpan.Zero, pacer.TimeUntilNextPermit());

        pacer.Acquire(long.MaxValue);
        time.Advance(TimeSpan.FromMilliseconds(30));

        Assert.Equal(70, pacer.TimeUntilNextPermit().TotalMilliseconds, precision: 3);
        time.Advance(TimeSpan.FromMilliseconds(70));
        Assert.Equal(TimeSpan.Zero, pacer.TimeUntilNextPermit());
        Assert.Equal(1, pacer.Acquire(long.MaxValue));
    }
}
