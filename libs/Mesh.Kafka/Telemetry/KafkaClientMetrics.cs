namespace Mesh.Kafka.Telemetry;

/// <summary>What one Kafka client last reported in its statistics, for <see cref="KafkaMetrics"/> to observe.</summary>
public sealed class KafkaClientMetrics
{
    private KafkaStatistics _latest = KafkaStatistics.Empty;

    internal KafkaClientMetrics(string clientId, string? groupId, bool isProducer)
    {
        ClientId = clientId;
        GroupId = groupId;
        IsProducer = isProducer;
    }

    public string ClientId { get; }

    /// <summary>The consumer group, or null for a producer.</summary>
    public string? GroupId { get; }

    public bool IsProducer { get; }

    public KafkaStatistics Latest => Volatile.Read(ref _latest);

    /// <summary>Replaces the figures with those of a new statistics document (librdkafka's statistics callback).</summary>
    public void OnStatistics(string json)
    {
        if (KafkaStatistics.Parse(json) is { } statistics)
        {
            Volatile.Write(ref _latest, statistics);
        }
    }
}
