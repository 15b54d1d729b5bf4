namespace Mesh.MetricsSink.Tests;

/// <summary>What the tests that run the whole sink over the Kafka-protocol broker share: fresh topics and the app's settings.</summary>
internal static class SinkOverKafka
{
    /// <summary>A fresh topic (two partitions) for each of the mesh's topics, so tests do not read each other's records.</summary>
    public static Task<MeshTopics> CreateTopicsAsync(KafkaTestCluster cluster) => cluster.CreateMeshTopicsAsync(2);

    /// <summary>The sink on those topics, as its own consumer group, writing its summary to <paramref name="tracking"/> every 100 ms.</summary>
    public static Dictionary<string, string?> Settings(KafkaTestCluster cluster, MeshTopics topics, string tracking, string group)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["MetricsSink:TrackingDir"] = tracking,
            ["MetricsSink:GroupId"] = group,
            ["MetricsSink:FlushIntervalMs"] = "100",
        };
        settings.SetMeshSettings(cluster.BootstrapServers, topics);
        return settings;
    }

    /// <summary>Per partition (two per topic) of <paramref name="topics"/>: the group's committed offset and the end.</summary>
    public static List<(TopicPartition Partition, long Committed, long End)> Positions(KafkaTestCluster cluster, string group, string[] topics)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = group }).Build();
        var partitions = topics.SelectMany(t => Enumerable.Range(0, 2).Select(p => new TopicPartition(t, p))).ToList();
        var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(10));
        return committed.Select(c => (c.TopicPartition, c.Offset.Value < 0 ? 0 : c.Offset.Value,
            consumer.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(10)).High.Value)).ToList();
    }
}
