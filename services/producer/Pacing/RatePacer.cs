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
    private readonly double _ratePerSecond;
    private readonly long _capacity;
    private readonly long _origin;
    private long _taken;

    /// <param name="ratePerSecond">Permits per second.</param>
    /// <param name="time">The clock; tests pass a manual one.</param>
    /// <param name="burstSeconds">How much unused time may be caught up at once.</param>
    public RatePacer(double ratePerSecond, TimeProvider time, double burstSeconds = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        _time = time;
        _ratePerSecond = ratePerSecond;
        _capacity = Math.Max(1, (long)Math.Ceiling(ratePerSecond * burstSeconds));
        _origin = time.GetTimestamp();
    }

    public long Capacity => _capacity;

    /// <summary>Takes up to <paramref name="max"/> permits available now (one is available at once, so the first record leaves without waiting).</summary>
    public long Acquire(long max)
    {
        var available = Available();
        if (available > _capacity)
        {
            // Forgive what exceeds the bucket: time nobody used is not owed.
            _taken += available - _capacity;
            available = _capacity;
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

        // Permit number _taken + 1 is earned once elapsed * rate reaches _taken (the first permit is free).
        var dueSeconds = _taken / _ratePerSecond;
        var elapsedSeconds = _time.GetElapsedTime(_origin).TotalSeconds;
        return TimeSpan.FromSeconds(Math.Max(0, dueSeconds - elapsedSeconds));
    }

    private long Available()
    {
        var earned = (long)Math.Floor((_time.GetElapsedTime(_origin).TotalSeconds * _ratePerSecond) + 1e-9);
        return 1 + earned - _taken;
    }
}
