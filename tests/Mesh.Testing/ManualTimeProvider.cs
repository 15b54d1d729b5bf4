namespace Mesh.Testing;

/// <summary>
/// A clock the test moves by hand (wall clock and timestamps together), so windows, rolling and pacing are tested
/// without waiting. Timers are the system's (<see cref="TimeProvider"/>'s own): a service's background loop still
/// runs on real time; only what it reads from the clock is the test's. The model host's tests have a clock whose
/// timers also wait for the test (tests/Mesh.ModelHost.Tests/ManualTimeProvider.cs).
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 27, 14, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => s_start.AddTicks(GetTimestamp());

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
