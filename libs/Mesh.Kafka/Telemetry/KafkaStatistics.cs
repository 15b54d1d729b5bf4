using System.Text.Json;

namespace Mesh.Kafka.Telemetry;

/// <summary>A partition's consumer lag: the high watermark (or the last stable offset) minus the committed offset.</summary>
public readonly record struct PartitionLag(string Topic, int Partition, long Lag);

/// <summary>One broker as a client sees it: its round-trip time over the last statistics window and its error counts so far.</summary>
public readonly record struct BrokerFigures(string Broker, double? RttSeconds, long TransmitErrors, long ReceiveErrors, long RequestTimeouts);

/// <summary>
/// The figures Mesh reads from one librdkafka statistics document (<c>statistics.interval.ms</c>; field names from
/// librdkafka's STATISTICS.md): per-partition <c>consumer_lag</c>, per-broker <c>rtt</c> (microseconds),
/// <c>txerrs</c>, <c>rxerrs</c> and <c>req_timeouts</c>, and the producer queue's <c>msg_cnt</c>.
/// </summary>
public sealed class KafkaStatistics
{
    public static readonly KafkaStatistics Empty = new([], [], 0);

    private KafkaStatistics(IReadOnlyList<PartitionLag> lags, IReadOnlyList<BrokerFigures> brokers, long queuedMessages)
    {
        Lags = lags;
        Brokers = brokers;
        QueuedMessages = queuedMessages;
    }

    /// <summary>Partitions with a known lag: librdkafka writes -1 for one it has no committed offset or watermark for, and lists an internal partition -1.</summary>
    public IReadOnlyList<PartitionLag> Lags { get; }

    /// <summary>The cluster's brokers, without librdkafka's internal and bootstrap-only entries.</summary>
    public IReadOnlyList<BrokerFigures> Brokers { get; }

    /// <summary>Messages waiting in the client's queues (for a producer: not yet acknowledged).</summary>
    public long QueuedMessages { get; }

    /// <summary>Reads a statistics document; null when it is not one.</summary>
    public static KafkaStatistics? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return new KafkaStatistics(ReadLags(root), ReadBrokers(root), Long(root, "msg_cnt"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<PartitionLag> ReadLags(JsonElement root)
    {
        var lags = new List<PartitionLag>();
        if (!root.TryGetProperty("topics", out var topics) || topics.ValueKind != JsonValueKind.Object)
        {
            return lags;
        }

        foreach (var topic in topics.EnumerateObject())
        {
            if (!topic.Value.TryGetProperty("partitions", out var partitions) || partitions.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var partition in partitions.EnumerateObject())
            {
                var id = (int)Long(partition.Value, "partition", -1);
                var lag = Long(partition.Value, "consumer_lag", -1);
                if (id >= 0 && lag >= 0)
                {
                    lags.Add(new PartitionLag(topic.Name, id, lag));
                }
            }
        }

        return lags;
    }

    private static List<BrokerFigures> ReadBrokers(JsonElement root)
    {
        var brokers = new List<BrokerFigures>();
        if (!root.TryGetProperty("brokers", out var all) || all.ValueKind != JsonValueKind.Object)
        {
            return brokers;
        }

        foreach (var broker in all.EnumerateObject())
        {
            var value = broker.Value;
            // "learned" brokers are the cluster's; "configured" are the bootstrap addresses, "internal" and "logical" librdkafka's own.
            if (!value.TryGetProperty("source", out var source) || source.GetString() != "learned")
            {
                continue;
            }

            double? rtt = null;
            if (value.TryGetProperty("rtt", out var window) && Long(window, "cnt") > 0)
            {
                rtt = Long(window, "avg") / 1_000_000.0;
            }

            var name = value.TryGetProperty("nodename", out var node) ? node.GetString() ?? broker.Name : broker.Name;
            brokers.Add(new BrokerFigures(name, rtt, Long(value, "txerrs"), Long(value, "rxerrs"), Long(value, "req_timeouts")));
        }

        return brokers;
    }

    private static long Long(JsonElement element, string name, long fallback = 0) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : fallback;
}
