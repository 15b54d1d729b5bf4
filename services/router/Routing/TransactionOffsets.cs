using Confluent.Kafka;

namespace Mesh.Router.Routing;

/// <summary>
/// The offsets the next transaction commits: one per partition this router owns, past its last handled record. A
/// partition that was revoked or lost is no longer committed for, even when a record of it that was already in
/// hand finishes afterwards. Used on the consume thread only.
/// </summary>
internal sealed class TransactionOffsets
{
    private readonly HashSet<TopicPartition> _owned = [];
    private readonly Dictionary<TopicPartition, long> _next = new();

    public int Count => _next.Count;

    public void OnAssigned(IEnumerable<TopicPartition> partitions) => _owned.UnionWith(partitions);

    /// <summary>Revoked or lost: nothing more is committed for these partitions.</summary>
    public void OnRemoved(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _owned.Remove(partition);
            _next.Remove(partition);
        }
    }

    public void OnHandled(TopicPartition partition, long offset)
    {
        if (_owned.Contains(partition))
        {
            _next[partition] = offset + 1;
        }
    }

    /// <summary>The offsets to commit (Kafka's convention: the next offset to read), emptied.</summary>
    public List<TopicPartitionOffset> Take()
    {
        var offsets = _next.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value))).ToList();
        _next.Clear();
        return offsets;
    }
}
