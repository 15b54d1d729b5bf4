using System.Threading.Channels;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The operations the joiner hands to the shared join state (Redis), oldest first, and how far they were decided.
/// The joiner fills it under its lock; <see cref="RedisJoinState"/> waits on it and takes from it through the joiner.
/// Its own object so that neither of the two needs the other set on it after construction.
/// </summary>
/// <param name="available">False while Redis is away: records are then decided in memory instead of queued.</param>
/// <param name="capacity">Most operations queued or in flight; beyond it, memory decides.</param>
internal sealed class SharedJoinQueue(Func<bool> available, int capacity)
{
    private readonly Queue<SharedJoinOperation> _outbox = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int _inFlight;
    private long _enqueuedThrough;
    private long _appliedThrough;
    private long _memoryFallbacks;

    /// <summary>Operations queued and not yet applied. Under the joiner's lock.</summary>
    public int Backlog => _outbox.Count + _inFlight;

    /// <summary>Records and expiries decided in memory because Redis was away or the queue full. Under the joiner's lock.</summary>
    public long MemoryFallbacks => _memoryFallbacks;

    /// <summary>The sequence of the operation queued last.</summary>
    public long EnqueuedThrough => Volatile.Read(ref _enqueuedThrough);

    /// <summary>The sequence of the last operation applied: every operation up to it was decided, by Redis or in memory.</summary>
    public long AppliedThrough => Volatile.Read(ref _appliedThrough);

    /// <summary>Whether the next operation goes to Redis; counts a memory fallback when it cannot. Under the joiner's lock.</summary>
    public bool TryShare()
    {
        if (available() && Backlog < capacity)
        {
            return true;
        }

        _memoryFallbacks++;
        return false;
    }

    /// <summary>Queues an operation and wakes the sender, never blocking (called under the joiner's lock).</summary>
    public void Enqueue(SharedJoinOperation operation)
    {
        operation.Sequence = _enqueuedThrough + 1;
        Volatile.Write(ref _enqueuedThrough, operation.Sequence);
        _outbox.Enqueue(operation);
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Takes up to <paramref name="max"/> operations, oldest first; they count as in flight until applied. Under the joiner's lock.</summary>
    public List<SharedJoinOperation> Take(int max)
    {
        var count = Math.Min(max, _outbox.Count);
        var taken = new List<SharedJoinOperation>(count);
        for (var i = 0; i < count; i++)
        {
            taken.Add(_outbox.Dequeue());
        }

        _inFlight += count;
        return taken;
    }

    /// <summary>Marks operations taken earlier as decided. Under the joiner's lock.</summary>
    public void Applied(IReadOnlyList<SharedJoinOperation> operations)
    {
        _inFlight -= operations.Count;
        if (operations.Count > 0)
        {
            Volatile.Write(ref _appliedThrough, operations[^1].Sequence);
        }
    }

    /// <summary>Waits until something was queued since the last wait.</summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        if (!await _signal.Reader.WaitToReadAsync(cancellationToken))
        {
            return false;
        }

        _signal.Reader.TryRead(out _);
        return true;
    }
}
