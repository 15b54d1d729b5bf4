using Confluent.Kafka;

namespace Mesh.Testing;

/// <summary>How far a consumer group has committed on a topic of the test cluster.</summary>
public static class ConsumerGroupOffsets
{
    /// <summary>
    /// Records of <paramref name="topic"/> the group has committed past: the sum of its committed offsets over partitions
    /// 0 to <paramref name="partitions"/> − 1, a partition without a commit counting 0.
    /// </summary>
    public static long CommittedTotal(this KafkaTestCluster cluster, string groupId, string topic, int partitions = 2)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
        }).Build();
        var all = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p));
        return consumer.Committed(all, TimeSpan.FromSeconds(10)).Sum(c => c.Offset.Value < 0 ? 0 : c.Offset.Value);
    }
}
