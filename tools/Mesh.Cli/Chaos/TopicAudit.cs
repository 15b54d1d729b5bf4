using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka;

namespace Mesh.Cli.Chaos;

/// <summary>What an independent reader found on the features and predictions topics.</summary>
/// <remarks>
/// <see cref="DeadLettered"/> are records never predicted that the router dead-lettered (replayable, but no prediction);
/// <see cref="Lost"/> are records with neither a prediction nor a dead letter.
/// </remarks>
internal sealed record TopicAuditResult(int Sent, int Predicted, int PredictionRecords, int DeadLettered, int Lost, int Unknown, PredictionGap LongestGap, IReadOnlyList<PredictionGap>? Gaps = null)
{
    /// <summary>Prediction records beyond the first per request id: what at-least-once delivery re-sent.</summary>
    public int Duplicates => PredictionRecords - Predicted;

    /// <summary>Every gap between predictions longer than <see cref="TopicAudit.ShortestGap"/>, in order.</summary>
    public IReadOnlyList<PredictionGap> Gaps { get; } = Gaps ?? [];
}

/// <summary>
/// Reads the features, predictions and dead-letter topics from the beginning to their ends with a plain consumer of its own
/// (no group, no commits), so what it counts depends on nothing the services say about themselves.
/// </summary>
internal static class TopicAudit
{
    /// <summary>Gaps shorter than this are the stream's own pace (500 records/s leave 2 ms), not a fault's.</summary>
    public static readonly TimeSpan ShortestGap = TimeSpan.FromMilliseconds(500);

    // How long one topic's read may take before the audit gives up on reaching every partition's end.
    private static readonly TimeSpan s_readBound = TimeSpan.FromMinutes(5);

    public static TopicAuditResult Read(string bootstrapServers, MeshTopics topics, int partitions)
    {
        var sent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in ReadAll(bootstrapServers, topics.Features, partitions))
        {
            if (TryParse(FeatureRecord.Parser, record.Message.Value) is { } feature)
            {
                sent.Add(feature.RequestId);
            }
        }

        var predicted = new HashSet<string>(StringComparer.Ordinal);
        var times = new List<DateTime>();
        var records = 0;
        foreach (var record in ReadAll(bootstrapServers, topics.Predictions, partitions))
        {
            if (TryParse(Prediction.Parser, record.Message.Value) is { } prediction)
            {
                records++;
                predicted.Add(prediction.RequestId);
                times.Add(record.Message.Timestamp.UtcDateTime);
            }
        }

        var deadLettered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in ReadAll(bootstrapServers, topics.DeadLetter, partitions))
        {
            if (TryParse(DeadLetter.Parser, record.Message.Value) is { } letter && TryParse(FeatureRecord.Parser, letter.Value.ToByteArray()) is { } original)
            {
                deadLettered.Add(original.RequestId);
            }
        }

        var unpredicted = sent.Where(id => !predicted.Contains(id)).ToList();
        return new TopicAuditResult(
            sent.Count,
            predicted.Count,
            records,
            unpredicted.Count(deadLettered.Contains),
            unpredicted.Count(id => !deadLettered.Contains(id)),
            predicted.Count(id => !sent.Contains(id)),
            PredictionGap.Longest(times),
            PredictionGap.Longer(times, ShortestGap));
    }

    private static List<ConsumeResult<byte[], byte[]>> ReadAll(string bootstrapServers, string topic, int partitions)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "mesh-chaos-audit-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = IsolationLevel.ReadUncommitted,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        // Up to each partition's end as the broker states it now (an end-of-partition event alone was seen to come early).
        var ends = Enumerable.Range(0, partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(ends.Where(e => e.Value > 0).Select(e => new TopicPartitionOffset(topic, e.Key, Offset.Beginning)));
        var atEnd = new HashSet<int>(ends.Where(e => e.Value <= 0).Select(e => e.Key));
        var records = new List<ConsumeResult<byte[], byte[]>>();
        var reached = new Dictionary<int, long>();
        var deadline = DateTime.UtcNow + s_readBound;
        while (atEnd.Count < partitions && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }

            records.Add(result);
            reached[result.Partition.Value] = result.Offset.Value + 1;
            if (result.Offset.Value + 1 >= ends[result.Partition.Value])
            {
                atEnd.Add(result.Partition.Value);
            }
        }

        consumer.Close();
        if (atEnd.Count < partitions)
        {
            // Not reading a partition to its end is the audit's shortfall, not the mesh's: say so, so that records it
            // did not reach are not mistaken for lost ones.
            var unread = ends.Where(e => !atEnd.Contains(e.Key)).Select(e => $"[{e.Key}] read to {reached.GetValueOrDefault(e.Key)} of {e.Value}");
            Console.Error.WriteLine($"audit: reading {topic} stopped at its {s_readBound.TotalMinutes:0}-minute bound before the end of {string.Join(", ", unread)}");
        }

        return records;
    }

    private static T? TryParse<T>(MessageParser<T> parser, byte[]? value)
        where T : class, IMessage<T>
    {
        try
        {
            return value is null ? null : parser.ParseFrom(value);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }
}
