using System.Buffers;
using System.Runtime.CompilerServices;

namespace Mesh.Router.Batching;

internal enum BatchCloseReason
{
    Size,
    Deadline,
    Flush,

    /// <summary>Closed when the records on hand ran out while none of the arm's batches was being processed.</summary>
    Idle,
}

/// <summary>A closed batch: the first <see cref="Count"/> entries of a pooled array, valid until processing ends.</summary>
internal readonly struct Batch<T>(T[] items, int count, BatchCloseReason reason)
{
    public int Count => count;

    public BatchCloseReason Reason => reason;

    public ReadOnlySpan<T> Items => items.AsSpan(0, count);

    public T this[int index] => items[index];

    internal T[] Array => items;
}

/// <summary>
/// Groups items into batches that close at <c>maxBatchSize</c> items or <c>maxDelay</c> after their first item,
/// or earlier through <see cref="CloseIfIdle"/>, and processes up to <c>maxInFlight</c> batches concurrently. A batch takes its in-flight slot when it opens, so
/// when every slot is busy <see cref="Add"/> blocks the caller (backpressure) instead of buffering without bound.
/// </summary>
internal sealed class MicroBatcher<T> : IDisposable
{
    private readonly int _maxBatchSize;
    private readonly long _maxDelayTicks;
    private readonly int _maxInFlight;
    private readonly Func<Batch<T>, Task> _process;
    private readonly Action<Exception> _onUnhandled;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private T[]? _items;
    private int _count;
    private long _deadline;

    public MicroBatcher(int maxBatchSize, TimeSpan maxDelay, int maxInFlight, Func<Batch<T>, Task> process, Action<Exception> onUnhandled, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxDelay, TimeSpan.Zero);
        _maxBatchSize = maxBatchSize;
        _time = time;
        _maxDelayTicks = (long)(maxDelay.TotalSeconds * time.TimestampFrequency);
        _maxInFlight = maxInFlight;
        _process = process;
        _onUnhandled = onUnhandled;
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        _timer = time.CreateTimer(static state => ((MicroBatcher<T>)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Batches holding a slot: the open one and those being processed (for the in-flight gauge).</summary>
    public int InFlight => _maxInFlight - _slots.CurrentCount;

    /// <summary>Adds an item; blocks while every batch slot is in flight. Throws when <paramref name="cancellationToken"/> fires while waiting.</summary>
    public void Add(T item, CancellationToken cancellationToken) => TryAdd(item, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Adds an item unless every batch slot stays in flight for longer than <paramref name="wait"/> (zero: do not
    /// wait at all, which is how shadows are shed). Returns false when the item was not added.
    /// </summary>
    public bool TryAdd(T item, TimeSpan wait, CancellationToken cancellationToken)
    {
        Batch<T>? closed = null;
        var joined = false;
        lock (_gate)
        {
            if (_items is not null)
            {
                closed = Append(item);
                joined = true;
            }
        }

        if (!joined)
        {
            // Opening a batch needs a slot; wait for it outside the lock so the timer can still close the open batch.
            if (!_slots.Wait(wait, cancellationToken))
            {
                return false;
            }

            lock (_gate)
            {
                if (_items is not null)
                {
                    // Another caller opened a batch while we waited: join it and give our slot back.
                    _slots.Release();
                }
                else
                {
                    _items = ArrayPool<T>.Shared.Rent(_maxBatchSize);
                    _count = 0;
                    _deadline = _time.GetTimestamp() + _maxDelayTicks;
                    _timer.Change(_time.GetElapsedTime(0, _maxDelayTicks), Timeout.InfiniteTimeSpan);
                }

                closed = Append(item);
            }
        }

        if (closed is { } batch)
        {
            Dispatch(batch);
        }

        return true;
    }

    /// <summary>Closes the open batch and waits until every batch has been processed.</summary>
    public async Task DrainAsync()
    {
        Batch<T>? closed = null;
        lock (_gate)
        {
            if (_items is not null)
            {
                closed = Close(BatchCloseReason.Flush);
            }
        }

        if (closed is { } batch)
        {
            Dispatch(batch);
        }

        // Holding every slot means no batch is open or in flight.
        for (var i = 0; i < _maxInFlight; i++)
        {
            await _slots.WaitAsync().ConfigureAwait(false);
        }

        _slots.Release(_maxInFlight);
    }

    /// <summary>
    /// Closes the open batch now when no other batch of this batcher is being processed: the caller has no more items
    /// on hand, and waiting out the deadline would only add latency. While batches are in flight the open one keeps
    /// filling until its size or deadline, so the batches follow the load: one or a few items when the rate is low,
    /// full ones when it is high. Returns whether a batch was closed.
    /// </summary>
    public bool CloseIfIdle()
    {
        Batch<T>? closed = null;
        lock (_gate)
        {
            // The open batch holds one slot; any other slot taken is a batch being processed.
            if (_items is not null && _slots.CurrentCount == _maxInFlight - 1)
            {
                closed = Close(BatchCloseReason.Idle);
            }
        }

        if (closed is not { } batch)
        {
            return false;
        }

        Dispatch(batch);
        return true;
    }

    public void Dispose()
    {
        _timer.Dispose();
        _slots.Dispose();
    }

    private Batch<T>? Append(T item)
    {
        _items![_count++] = item;
        return _count >= _maxBatchSize ? Close(BatchCloseReason.Size) : null;
    }

    private Batch<T> Close(BatchCloseReason reason)
    {
        var batch = new Batch<T>(_items!, _count, reason);
        _items = null;
        _count = 0;
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return batch;
    }

    private void OnTimer()
    {
        Batch<T>? closed = null;
        lock (_gate)
        {
            if (_items is null)
            {
                return;
            }

            var remaining = _deadline - _time.GetTimestamp();
            if (remaining > 0)
            {
                // A late callback of an earlier batch's timer: wait for this batch's own deadline.
                _timer.Change(_time.GetElapsedTime(0, remaining), Timeout.InfiniteTimeSpan);
                return;
            }

            closed = Close(BatchCloseReason.Deadline);
        }

        Dispatch(closed.Value);
    }

    private void Dispatch(Batch<T> batch)
    {
        // Off the caller's thread: the consume thread must not run the model call.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Self.RunAsync(state.Batch), (Self: this, Batch: batch), preferLocal: false);
    }

    private async Task RunAsync(Batch<T> batch)
    {
        try
        {
            await _process(batch).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _onUnhandled(e);
        }
        finally
        {
            var array = batch.Array;
            ArrayPool<T>.Shared.Return(array, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
            _slots.Release();
        }
    }
}
