namespace Mesh.Producer.Tests;

public sealed class RateProfileTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(10, 100)]        // first step: 10/s for 10 s
    [InlineData(15, 175)]        // + 5 s at 15/s
    [InlineData(30, 450)]        // 100 + 150 + 200
    public void Step_DueBy_AddsTheIncrementEveryStep(double seconds, double due)
    {
        var profile = RateProfile.From(new ProducerOptions { Profile = "step", Rate = 10, StepRate = 5, StepSeconds = 10 });

        Assert.Equal(due, profile.DueBy(seconds), precision: 6);
    }

    [Theory]
    [InlineData(5, 162.5)]       // halfway the rate is 55/s: average (10 + 55) / 2 over 5 s
    [InlineData(10, 550)]        // the whole ramp: average 55/s
    [InlineData(12, 750)]        // then 100/s
    public void Ramp_DueBy_IntegratesTheLine(double seconds, double due)
    {
        var profile = RateProfile.From(new ProducerOptions { Profile = "ramp", Rate = 10, PeakRate = 100, RampSeconds = 10 });

        Assert.Equal(due, profile.DueBy(seconds), precision: 6);
    }

    [Theory]
    [InlineData(1, 100)]         // inside the first burst
    [InlineData(2, 200)]
    [InlineData(10, 280)]        // 2 s at 100 + 8 s at 10
    [InlineData(11, 380)]        // the next burst
    public void Burst_DueBy_PeaksAtTheStartOfEachPeriod(double seconds, double due)
    {
        var profile = RateProfile.From(new ProducerOptions { Profile = "burst", Rate = 10, PeakRate = 100, BurstSeconds = 2, BurstEverySeconds = 10 });

        Assert.Equal(due, profile.DueBy(seconds), precision: 6);
        Assert.Equal(seconds % 10 < 2 ? 100 : 10, profile.RateAt(seconds));
    }

    [Fact]
    public void Pacer_RampProfile_GrantsWhatTheShapeMakesDue()
    {
        var time = new ManualTimeProvider();
        var pacer = new RatePacer(RateProfile.From(new ProducerOptions { Profile = "ramp", Rate = 100, PeakRate = 1100, RampSeconds = 10 }), time);
        long granted = pacer.Acquire(long.MaxValue);

        // Asked every 10 ms, as the worker does, so the burst cap never forgives anything.
        for (var i = 0; i < 1000; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            granted += pacer.Acquire(long.MaxValue);
        }

        // 1 free permit + the ramp's 6,000 due over 10 s.
        Assert.Equal(6001, granted);
        Assert.Equal(1100, pacer.CurrentRate);
    }
}
