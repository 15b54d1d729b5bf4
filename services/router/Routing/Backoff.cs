using System.Diagnostics;

namespace Mesh.Router.Routing;

/// <summary>
/// The waits of one batch's retries against a host that cannot take it now: 5 ms doubling to 1 s, and the time since
/// the first refusal, which bounds the whole wait. A mutable struct local to one call, so retrying allocates nothing.
/// </summary>
internal struct Backoff
{
    private static readonly TimeSpan s_first = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_longest = TimeSpan.FromSeconds(1);
    private long _since;
    private TimeSpan _next;

    /// <summary>Whether a refusal has been seen (the clock runs).</summary>
    public readonly bool Started => _since != 0;

    /// <summary>The wait <see cref="WaitAsync"/> will take next.</summary>
    public readonly TimeSpan NextWait => _next == TimeSpan.Zero ? s_first : _next;

    /// <summary>Starts the clock at the first refusal; true once <paramref name="limit"/> has passed since then.</summary>
    public bool Exceeded(TimeSpan limit)
    {
        if (_since == 0)
        {
            _since = Stopwatch.GetTimestamp();
        }

        return Stopwatch.GetElapsedTime(_since) >= limit;
    }

    public Task WaitAsync()
    {
        var wait = NextWait;
        _next = wait * 2 < s_longest ? wait * 2 : s_longest;
        return Task.Delay(wait);
    }
}
