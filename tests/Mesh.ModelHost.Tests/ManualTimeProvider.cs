namespace Mesh.ModelHost.Tests;

/// <summary>
/// A clock that moves only when the test says so: timestamps and timers follow <see cref="Advance"/>, so a
/// queue delay is asserted on order and counts instead of on how long the machine took.
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private readonly List<(int Count, TaskCompletionSource Created)> _timerWaiters = [];
    private long _ticks;
    private int _timersCreated;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        List<TaskCompletionSource> created = [];
        lock (_lock)
        {
            timer.Schedule(dueTime, period);
            _timers.Add(timer);
            _timersCreated++;
            created.AddRange(_timerWaiters.Where(w => w.Count <= _timersCreated).Select(w => w.Created));
            _timerWaiters.RemoveAll(w => w.Count <= _timersCreated);
        }

        foreach (var waiter in created)
        {
            waiter.TrySetResult();
        }

        return timer;
    }

    /// <summary>Completes once <paramref name="count"/> timers were created since this clock was.</summary>
    public Task WaitForTimersCreatedAsync(int count)
    {
        lock (_lock)
        {
            if (_timersCreated >= count)
            {
                return Task.CompletedTask;
            }

            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _timerWaiters.Add((count, created));
            return created.Task;
        }
    }

    /// <summary>Moves the clock and runs, on the caller's thread, every timer that came due.</summary>
    public void Advance(TimeSpan by)
    {
        var now = Interlocked.Add(ref _ticks, by.Ticks);
        List<ManualTimer> due;
        lock (_lock)
        {
            due = [.. _timers.Where(t => t.DueAt is { } at && at <= now)];
            foreach (var timer in due)
            {
                timer.Fired();
            }
        }

        foreach (var timer in due)
        {
            timer.Run();
        }
    }

    private void Remove(ManualTimer timer)
    {
        lock (_lock)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        private long _period = -1;

        public long? DueAt { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                Schedule(dueTime, period);
            }

            return true;
        }

        public void Schedule(TimeSpan dueTime, TimeSpan period)
        {
            DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetTimestamp() + dueTime.Ticks;
            _period = period == Timeout.InfiniteTimeSpan ? -1 : period.Ticks;
        }

        public void Fired() => DueAt = _period > 0 ? DueAt + _period : null;

        public void Run() => callback(state);

        public void Dispose()
        {
            DueAt = null;
            clock.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
