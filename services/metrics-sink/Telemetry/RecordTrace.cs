using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Mesh.Kafka;

namespace Mesh.MetricsSink.Telemetry;

/// <summary>
/// Where a prediction or label record of a join came from, for the join span's link to it: its trace context (its
/// <c>traceparent</c>), its Kafka coordinates, the Prediction's <c>trace_id</c> and experiment, and the sink's own span
/// of it when it was read (the parent of a join Redis decides later). The join keeps it with the waiting record, so
/// the record and its link are forgotten together.
/// </summary>
internal sealed class RecordTrace
{
    // Held apart so that a forgotten trace costs only this object while its record waits.
    private volatile Payload? _payload;

    private RecordTrace(Payload payload) => _payload = payload;

    /// <summary>The record's trace context; default once forgotten.</summary>
    public ActivityContext Context => _payload?.Context ?? default;

    /// <summary>The sink's span of the record when it was read; default once forgotten.</summary>
    public ActivityContext Process => _payload?.Process ?? default;

    /// <summary>The Prediction's <c>trace_id</c> (the FeatureRecord's trace); empty for a label, or once forgotten.</summary>
    public string TraceId => _payload?.TraceId ?? "";

    /// <summary>The Prediction's experiment; empty for a label, or once forgotten.</summary>
    public string Experiment => _payload?.Experiment ?? "";

    /// <summary>A prediction another instance read: its trace id only (no span to link to).</summary>
    public static RecordTrace Remote(string traceId, string experiment) => new(new Payload(default, "", 0, 0, traceId, experiment, default));

    public static RecordTrace Of(ConsumeResult<byte[], byte[]> record, string traceId, string experiment) => new(new Payload(
        MeshHeaders.ExtractTraceContext(record.Message.Headers), record.Topic, record.Partition.Value, record.Offset.Value, traceId, experiment, Activity.Current?.Context ?? default));

    /// <summary>Drops what the trace knows: the tracer keeps links for a bounded number of waiting records.</summary>
    public void Forget() => _payload = null;

    public ActivityLink Link(string side)
    {
        var payload = _payload ?? new Payload(default, "", 0, 0, "", "", default);
        return new ActivityLink(payload.Context, new ActivityTagsCollection
        {
            ["mesh.join.side"] = side,
            ["messaging.destination.name"] = payload.Topic,
            ["messaging.destination.partition.id"] = payload.Partition.ToString(CultureInfo.InvariantCulture),
            ["messaging.kafka.offset"] = payload.Offset,
        });
    }

    private sealed record Payload(ActivityContext Context, string Topic, int Partition, long Offset, string TraceId, string Experiment, ActivityContext Process);
}
