using System.Diagnostics;
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
    /// <summary>Starts the record's processing span (it becomes <see cref="Activity.Current"/>); null when nobody listens.</summary>
    public static Activity? StartProcess(ActivitySource source, ConsumeResult<byte[], byte[]> record, string groupId)
    {
        var activity = source.StartActivity("process " + record.Topic, ActivityKind.Consumer, MeshHeaders.ExtractTraceContext(record.Message.Headers));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", record.Topic);
            activity.SetTag("messaging.destination.partition.id", record.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("messaging.kafka.offset", record.Offset.Value);
            activity.SetTag("messaging.consumer.group.name", groupId);
        }

        return activity;
    }
}
