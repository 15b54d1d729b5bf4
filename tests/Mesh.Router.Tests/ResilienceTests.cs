namespace Mesh.Router.Tests;

public sealed class ResilienceTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void CircuitBreaker_ConsecutiveFailures_OpensThenLetsOneProbeThroughAfterTheBreak()
    {
        var time = new ManualTime();
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(5), time);

        for (var i = 0; i < 2; i++)
        {
            Assert.True(breaker.TryAcquire());
            breaker.OnFailure();
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
        breaker.OnFailure();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryAcquire());

        AssertLetsOneProbeThroughAfterTheBreak(breaker, time);
        breaker.OnFailure();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryAcquire());

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire());
        breaker.OnSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
    }

    [Fact]
    public void CircuitBreaker_SuccessBetweenFailures_ResetsTheCount()
    {
        var breaker = new CircuitBreaker(2, TimeSpan.FromSeconds(1), new ManualTime());

        breaker.OnFailure();
        breaker.OnSuccess();
        breaker.OnFailure();

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void CircuitBreaker_HalfOpenProbeAbandoned_LetsTheNextProbeThroughWithoutClosing()
    {
        var time = new ManualTime();
        var breaker = new CircuitBreaker(1, TimeSpan.FromSeconds(5), time);
        Assert.True(breaker.TryAcquire());
        breaker.OnFailure();
        AssertLetsOneProbeThroughAfterTheBreak(breaker, time);

        // The probe ended with an exception that was not the host's answer: no verdict, but no stuck probe either.
        breaker.OnAbandoned();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.TryAcquire());
        breaker.OnSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    /// <summary>Once the five-second break has passed, the open breaker is half-open and lets one probe through at a time.</summary>
    private static void AssertLetsOneProbeThroughAfterTheBreak(CircuitBreaker breaker, ManualTime time)
    {
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.TryAcquire());
        // One probe at a time.
        Assert.False(breaker.TryAcquire());
    }

    [Fact]
    public void TokenBucket_BurstThenRate_AdmitsExactlyWhatTheRateAllows()
    {
        var time = new ManualTime();
        var bucket = new TokenBucket(100, 10, time);

        var admitted = Enumerable.Range(0, 20).Count(i => bucket.TryTake(out var unused));
        Assert.Equal(10, admitted);
        Assert.False(bucket.TryTake(out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(10), retryAfter);

        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(5, Enumerable.Range(0, 20).Count(i => bucket.TryTake(out var unused)));

        // A long quiet spell refills up to the burst, no more.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(10, Enumerable.Range(0, 20).Count(i => bucket.TryTake(out var unused)));
    }

    [Fact]
    public void TokenBucket_SixtyRecordsPastABurstOfTen_WaitAtLeastHalfASecond()
    {
        // What FlowControlTests' rate-limited router does on the consume thread, on a clock the test moves: each
        // record takes a token or waits the time the bucket says, so 50 records past the burst need 0.5 s at 100/s.
        var time = new ManualTime();
        var bucket = new TokenBucket(100, 10, time);
        var waited = TimeSpan.Zero;
        var waits = 0;
        for (var record = 0; record < 60; record++)
        {
            while (!bucket.TryTake(out var retryAfter))
            {
                waits++;
                waited += retryAfter;
                time.Advance(retryAfter);
            }
        }

        Assert.True(waited >= TimeSpan.FromSeconds(0.5) - TimeSpan.FromTicks(60), $"60 records waited {waited.TotalMilliseconds} ms");
        Assert.Equal(50, waits);
    }
}
