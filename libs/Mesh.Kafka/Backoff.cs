namespace Mesh.Kafka;

/// <summary>
/// The waits of retrying something that cannot take work now (a full local produce queue, a model host that is busy or
/// unreachable): a first wait that doubles up to a longest one, and a bound on the whole wait, timed from the first
/// refusal so that the work done before it does not count. Every wait can be cancelled.
/// </summary>
/// <remarks>
/// A mutable struct, local to one call: retrying allocates nothing, and each call has its own clock. Use it through a
/// variable, not a copy (a copy has a clock of its own).
/// </remarks>
public struct Backoff
{
    private readonly TimeSpan _longest;
    private readonly TimeProvider? _time;
    private TimeSpan _next;
    private long _since;
    private bool _started;

    /// <param name="first">The first wait.</param>
    /// <param name="longest">The longest one wait; each wait doubles the one before up to it.</param>
    /// <param name="bound">How long after the first refusal <see cref="Exceeded"/> turns true.</param>
    /// <param name="time">The clock that times the bound and the waits; the system's when null.</param>
    public Backoff(TimeSpan first, TimeSpan longest, TimeSpan bound, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(first, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(longest, first);
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, TimeSpan.Zero);
        _next = first;
        _longest = longest;
        _time = time;
        Bound = bound;
    }

    /// <summary>How long after the first refusal the retries give up.</summary>
    public readonly TimeSpan Bound { get; }

    /// <summary>Whether a refusal has been seen (the clock of the bound runs).</summary>
    public readonly bool Started => _started;

    /// <summary>The wait <see cref="WaitAsync"/> or <see cref="Wait"/> takes next.</summary>
    public readonly TimeSpan NextWait => _next;

    private readonly TimeProvider Time => _time ?? TimeProvider.System;

    /// <summary>Call at each refusal: starts the clock at the first; true once <see cref="Bound"/> has passed since then.</summary>
    public bool Exceeded()
    {
        if (!_started)
        {
            _since = Time.GetTimestamp();
            _started = true;
        }

        return Time.GetElapsedTime(_since) >= Bound;
    }

    /// <summary>Waits <see cref="NextWait"/>, then doubles it up to the longest wait.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before or while waiting.</exception>
    public Task WaitAsync(CancellationToken cancellationToken = default) => Task.Delay(Advance(), Time, cancellationToken);

    /// <summary>Blocks the calling thread for <see cref="NextWait"/>, then doubles it up to the longest wait (for callers that are synchronous, as <c>IProducer.Produce</c> is).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before or while waiting.</exception>
    public void Wait(CancellationToken cancellationToken)
    {
        var wait = Advance();
        if (_time is null || _time == TimeProvider.System)
        {
            // A sleep the token ends early, with no timer or task per wait.
            cancellationToken.WaitHandle.WaitOne(wait);
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }

        Task.Delay(wait, _time, cancellationToken).GetAwaiter().GetResult();
    }

    private TimeSpan Advance()
    {
        var wait = _next;
        _next = wait * 2 < _longest ? wait * 2 : _longest;
        return wait;
    }
}
