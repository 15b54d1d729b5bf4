using Confluent.Kafka;
using Mesh.Kafka;

namespace Mesh.Router.Routing;

/// <summary>
/// Completes records: once every output a record owes is acknowledged, its activity ends and its offset is released
/// (in consume order, through the <see cref="OffsetTracker"/>). Completions run on producer delivery threads; the
/// released offsets wait here until the consume thread, which owns the consumer, stores them
/// (<see cref="StoreReady"/>), so this piece never needs the consumer.
/// </summary>
internal sealed partial class RecordCompletion(OffsetTracker offsets, IHostApplicationLifetime lifetime, ILogger<RecordCompletion> logger)
{
    private readonly Lock _gate = new();
    private Dictionary<TopicPartition, long> _ready = new();
    private Dictionary<TopicPartition, long> _spare = new();
    private volatile int _readyCount;

    /// <summary>Counts one output of <paramref name="record"/> as delivered (or failed: that stops the process).</summary>
    public void OnOutputDelivered(RoutedRecord record, bool delivered)
    {
        if (!delivered)
        {
            // librdkafka already retried until message.timeout.ms. Storing later offsets would skip this record,
            // so stop: the restarted router consumes it again from the last stored offset.
            FatalError.Stop(lifetime, logger,
                $"An output of {record.Source.Topic}[{record.Source.Partition.Value}]@{record.Source.Offset.Value} could not be delivered to Kafka.");
            return;
        }

        if (!record.OutputDone())
        {
            return;
        }

        record.Activity?.Stop();
        var source = record.Source;
        if (offsets.Complete(source.TopicPartition, source.Offset.Value) is long next)
        {
            lock (_gate)
            {
                // Two completions of one partition may get here out of order: the higher offset wins.
                if (!_ready.TryGetValue(source.TopicPartition, out var stored) || stored < next)
                {
                    _ready[source.TopicPartition] = next;
                }

                _readyCount = _ready.Count;
            }
        }
    }

    /// <summary>Stores the released offsets on <paramref name="consumer"/>; call on the consume thread.</summary>
    public void StoreReady(IConsumer<byte[], byte[]> consumer)
    {
        if (_readyCount == 0)
        {
            return;
        }

        foreach (var ready in TakeReady())
        {
            StoreOffset(consumer, ready.TopicPartition, ready.Offset.Value);
        }
    }

    /// <summary>The offsets released since the last call (Kafka's convention: the next offset to read), one per partition.</summary>
    public List<TopicPartitionOffset> TakeReady()
    {
        Dictionary<TopicPartition, long> ready;
        lock (_gate)
        {
            ready = _ready;
            _ready = _spare;
            _spare = ready;
            _readyCount = 0;
        }

        var offsets = ready.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value))).ToList();
        ready.Clear();
        return offsets;
    }

    /// <summary>Revoked or lost partitions: offsets released for them are no longer stored.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        var list = partitions as ICollection<TopicPartition> ?? partitions.ToList();
        offsets.Forget(list);
        lock (_gate)
        {
            foreach (var partition in list)
            {
                _ready.Remove(partition);
            }

            _readyCount = _ready.Count;
        }
    }

    private void StoreOffset(IConsumer<byte[], byte[]> consumer, TopicPartition partition, long offset)
    {
        try
        {
            consumer.StoreOffset(new TopicPartitionOffset(partition, new Offset(offset)));
        }
        catch (KafkaException e)
        {
            // The partition was revoked or lost meanwhile; its new owner reprocesses from the committed offset.
            LogStoreOffsetSkipped(logger, partition.Topic, partition.Partition.Value, offset, e.Error.Reason);
        }
        catch (ObjectDisposedException)
        {
            LogStoreOffsetSkipped(logger, partition.Topic, partition.Partition.Value, offset, "the consumer is closed");
        }
    }

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Offset {Offset} of {Topic}[{Partition}] not stored: {Reason}")]
    private static partial void LogStoreOffsetSkipped(ILogger logger, string topic, int partition, long offset, string reason);
}
