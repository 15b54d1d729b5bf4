using Confluent.Kafka;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// Reads a whole topic up to the high watermarks seen when reading starts, then stops. Partitions are assigned
/// explicitly and nothing is ever committed, so no consumer group the services use moves, and records produced
/// while reading are left for the next run.
/// </summary>
internal sealed class TopicSnapshotReader(string bootstrapServers)
{
    private static readonly TimeSpan s_request = TimeSpan.FromSeconds(10);

    // A partition that stays silent this long below its watermark means the broker is gone or a transaction is open.
    private static readonly TimeSpan s_idleLimit = TimeSpan.FromSeconds(30);

    public IEnumerable<ConsumeResult<byte[], byte[]>> Read(string topic, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            // Required by the client, but never joined (Assign, not Subscribe) and never committed to.
            GroupId = "mesh-cli-snapshot-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 10,
        }).Build();

        var pending = new Dictionary<int, long>();
        var assignment = new List<TopicPartitionOffset>();
        foreach (var partition in Partitions(consumer, topic))
        {
            var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), s_request);
            if (watermarks.High.Value > watermarks.Low.Value)
            {
                pending[partition] = watermarks.High.Value;
                assignment.Add(new TopicPartitionOffset(topic, partition, watermarks.Low));
            }
        }

        if (assignment.Count == 0)
        {
            yield break;
        }

        consumer.Assign(assignment);
        var lastProgress = DateTime.UtcNow;
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is null)
            {
                if (DateTime.UtcNow - lastProgress > s_idleLimit)
                {
                    throw new TimeoutException($"Reading {topic} stalled below its watermarks on partition(s) {string.Join(", ", pending.Keys)}.");
                }

                continue;
            }

            lastProgress = DateTime.UtcNow;
            var partition = record.Partition.Value;
            if (!pending.TryGetValue(partition, out var high))
            {
                continue;
            }

            // End of partition: what a read_committed reader can see ends here even when markers sit below the watermark.
            if (record.IsPartitionEOF || record.Offset.Value >= high - 1)
            {
                pending.Remove(partition);
            }

            if (!record.IsPartitionEOF && record.Offset.Value < high)
            {
                yield return record;
            }
        }

        consumer.Close();
    }

    private static IEnumerable<int> Partitions(IConsumer<byte[], byte[]> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, s_request);
        var found = metadata.Topics.SingleOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.Code == ErrorCode.UnknownTopicOrPart)
        {
            return [];
        }

        if (found.Error.IsError)
        {
            throw new KafkaException(found.Error);
        }

        return found.Partitions.Select(p => p.PartitionId).Order().ToList();
    }
}
