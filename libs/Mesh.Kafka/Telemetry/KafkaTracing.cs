using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Mesh.Kafka.Telemetry;

/// <summary>
/// The span of one consumed record, the same in every service: named and tagged after OpenTelemetry's messaging
/// conventions (<c>process {topic}</c>; <c>messaging.system</c>, <c>messaging.operation.*</c>,
/// <c>messaging.destination.name</c>, <c>messaging.destination.partition.id</c>, <c>messaging.kafka.offset</c>,
/// <c>messaging.consumer.group.name</c>), a child of the trace context the record's headers carry, so one trace
/// follows a record from the producer through every service.
/// </summary>
public static class KafkaTracing
{
    // Span names and partition ids, made once: a service sees few topics and partitions, and every record needs both.
    private static readonly ConcurrentDictionary<string, string> s_spanNames = new(StringComparer.Ordinal);
    private static readonly string[] s_partitionIds = [.. Enumerable.Range(0, 64).Select(p => p.ToString(CultureInfo.InvariantCulture))];

    /// <summary>Starts the record's processing span (it becomes <see cref="Activity.Current"/>); null when nobody listens.</summary>
    public static Activity? StartProcess(ActivitySource source, ConsumeResult<byte[], byte[]> record, string groupId) =>
        StartProcess(source, record, groupId, MeshHeaders.ExtractTraceContext(record.Message.Headers));

    /// <summary>As above, under <paramref name="parent"/>: the record's trace context, read from its headers already.</summary>
    public static Activity? StartProcess(ActivitySource source, ConsumeResult<byte[], byte[]> record, string groupId, ActivityContext parent)
    {
        var activity = source.StartActivity(SpanName(record.Topic), ActivityKind.Consumer, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", record.Topic);
            activity.SetTag("messaging.destination.partition.id", PartitionId(record.Partition.Value));
            activity.SetTag("messaging.kafka.offset", record.Offset.Value);
            activity.SetTag("messaging.consumer.group.name", groupId);
        }

        return activity;
    }

    private static string SpanName(string topic) =>
        s_spanNames.TryGetValue(topic, out var name) ? name : s_spanNames.GetOrAdd(topic, static t => "process " + t);

    private static string PartitionId(int partition) =>
        (uint)partition < (uint)s_partitionIds.Length ? s_partitionIds[partition] : partition.ToString(CultureInfo.InvariantCulture);
}
