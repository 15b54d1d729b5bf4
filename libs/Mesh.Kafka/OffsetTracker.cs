using Confluent.Kafka;

namespace Mesh.Kafka;

/// <summary>
/// At-least-once bookkeeping when records complete out of order (micro-batches, async produce): an offset is
/// released for storing only when it and every earlier offset of its partition are done, so a restart never
/// skips a record whose output was not acknowledged.
/// </summary>
public sealed class OffsetTracker
{
    private readonly Dictionary<TopicPartition, PartitionState> _partitions = new();
    private readonly object _gate = new();

    /// <summary>Registers a consumed offset; call in consume order.</summary>
    public void Track(TopicPartition partition, long offset)
    {
        lock (_gate)
        {
            if (!_partitions.TryGetValue(partition, out var state))
            {
                state = new PartitionState();
                _partitions[partition] = state;
            }

            state.Pending.Enqueue(offset);
        }
    }

    /// <summary>
    /// Marks an offset done. Returns the offset to store (last contiguous done offset + 1, Kafka's convention),
    /// or null when an earlier offset is still pending or the partition was revoked.
    /// </summary>
    public long? Complete(TopicPartition partition, long offset)
    {
        lock (_gate)
        {
            if (!_partitions.TryGetValue(partition, out var state))
            {
                return null;
            }

            state.Done.Add(offset);
            long? next = null;
            while (state.Pending.Count > 0 && state.Done.Remove(state.Pending.Peek()))
            {
                next = state.Pending.Dequeue() + 1;
            }

            return next;
        }
    }

    /// <summary>Number of tracked offsets not yet released, over all partitions.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _partitions.Values.Sum(p => p.Pending.Count);
            }
        }
    }

    /// <summary>Forgets partitions that were revoked or lost: their in-flight completions no longer store offsets.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        lock (_gate)
        {
            foreach (var partition in partitions)
            {
                _partitions.Remove(partition);
            }
        }
    }

    private sealed class PartitionState
    {
        public Queue<long> Pending { get; } = new();

        public HashSet<long> Done { get; } = new();
    }
}
