namespace Mesh.Producer.Pacing;

/// <summary>
/// A token bucket that holds a rate without sleeping per record: the caller asks for every permit earned since
/// it last asked and sends them as a small burst. Permits are derived from the total elapsed time (not summed
/// per step), so rounding never drifts the rate; the bucket caps the backlog so a stall is not followed by an
/// unbounded burst.
/// </summary>
internal sealed class RatePacer
{
    private readonly TimeProvider _time;
    private readonly RateProfile _profile;
    private readonly double _burstSeconds;
    private readonly long _origin;
    private long _taken;

    /// <param name="ratePerSecond">Permits per second.</param>
    /// <param name="time">The clock; tests pass a manual one.</param>
    /// <param name="burstSeconds">How much unused time may be caught up at once.</param>
    public RatePacer(double ratePerSecond, TimeProvider time, double burstSeconds = 0.1)
        : this(new RateProfile.Constant(CheckRate(ratePerSecond)), time, burstSeconds)
    {
    }

    /// <param name="profile">The load shape: permits due by each moment.</param>
    /// <param name="time">The clock; tests pass a manual one.</param>
    /// <param name="burstSeconds">How much unused time (at the current rate) may be caught up at once.</param>
    public RatePacer(RateProfile profile, TimeProvider time, double burstSeconds = 0.1)
    {
        _time = time;
        _profile = profile;
        _burstSeconds = burstSeconds;
        _origin = time.GetTimestamp();
    }

    /// <summary>The most permits granted at once at the current rate.</summary>
    public long Capacity => Math.Max(1, (long)Math.Ceiling(CurrentRate * _burstSeconds));

    /// <summary>The profile's rate now.</summary>
    public double CurrentRate => _profile.RateAt(Elapsed);

    private double Elapsed => _time.GetElapsedTime(_origin).TotalSeconds;

    /// <summary>Takes up to <paramref name="max"/> permits available now (one is available at once, so the first record leaves without waiting).</summary>
    public long Acquire(long max)
    {
        var available = Available();
        var capacity = Capacity;
        if (available > capacity)
        {
            // Forgive what exceeds the bucket: time nobody used is not owed.
            _taken += available - capacity;
            available = capacity;
        }

        var granted = Math.Clamp(available, 0, Math.Max(0, max));
        _taken += granted;
        return granted;
    }

    /// <summary>How long until the next permit is earned; zero when one is available now.</summary>
    public TimeSpan TimeUntilNextPermit()
    {
        if (Available() >= 1)
        {
            return TimeSpan.Zero;
        }

        // Permit number _taken + 1 is earned once the permits due reach _taken (the first permit is free); at
        // the current rate that is this far away. A shape that changes rate meanwhile is caught at the next ask.
        var elapsed = Elapsed;
        var missing = _taken - _profile.DueBy(elapsed);
        var rate = _profile.RateAt(elapsed);
        return rate <= 0 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(Math.Max(0, missing / rate));
    }

    private long Available()
    {
        var earned = (long)Math.Floor(_profile.DueBy(Elapsed) + 1e-9);
        return 1 + earned - _taken;
    }

    private static double CheckRate(double ratePerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        return ratePerSecond;
    }
}
