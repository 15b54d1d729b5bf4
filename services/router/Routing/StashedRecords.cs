using Confluent.Kafka;

namespace Mesh.Router.Routing;

/// <summary>
/// Records fetched while the partitions were being paused, handled in order before the next Consume. A record
/// whose partition was revoked or lost meanwhile is dropped: its new owner consumes it from the committed offset,
/// and handling it here too would produce its outputs twice. Used on the consume thread only.
/// </summary>
internal sealed class StashedRecords
{
    private readonly Queue<ConsumeResult<byte[], byte[]>> _records = new();

    public int Count => _records.Count;

    public void Add(ConsumeResult<byte[], byte[]> record) => _records.Enqueue(record);

    public bool TryTake(out ConsumeResult<byte[], byte[]> record) => _records.TryDequeue(out record!);

    /// <summary>Drops the records of <paramref name="partitions"/>, keeping the others in order.</summary>
    public int Remove(IEnumerable<TopicPartition> partitions)
    {
        if (_records.Count == 0)
        {
            return 0;
        }

        var gone = partitions.ToHashSet();
        var before = _records.Count;
        var kept = _records.Where(r => !gone.Contains(r.TopicPartition)).ToList();
        _records.Clear();
        foreach (var record in kept)
        {
            _records.Enqueue(record);
        }

        return before - kept.Count;
    }
}
