using System.Diagnostics;
using Confluent.Kafka;
using Mesh.Contracts.V1;

namespace Mesh.Router.Routing;

/// <summary>
/// A consumed record on its way through the router. It completes (and its offset may be stored) once every
/// output it owes (one Prediction per experiment, or one dead letter) has been acknowledged by Kafka.
/// </summary>
internal sealed class RoutedRecord(ConsumeResult<byte[], byte[]> source, DateTime consumedAt, Activity? activity, ActivityContext parentContext, byte[]? inboundTraceParent)
{
    private int _pendingOutputs = 1;
    private string? _traceId;

    public ConsumeResult<byte[], byte[]> Source => source;

    public DateTime ConsumedAt => consumedAt;

    public Activity? Activity => activity;

    /// <summary>The record's own <c>traceparent</c>, forwarded as is when no listener sampled an activity.</summary>
    public byte[]? InboundTraceParent => inboundTraceParent;

    public FeatureRecord? Feature { get; set; }

    /// <summary>The record's event time, or the Kafka timestamp when the record carries none.</summary>
    public DateTime EventTime { get; set; }

    /// <summary>The record's span context, or the one its headers carried when nobody sampled a span: what a batch call links to.</summary>
    public ActivityContext TraceContext => activity?.Context ?? parentContext;

    /// <summary>The trace id as hex, formatted once: every Prediction of the record (primary and shadows) carries it.</summary>
    public string TraceId => _traceId ??= activity is not null
        ? activity.TraceId.ToHexString()
        : parentContext.TraceId != default ? parentContext.TraceId.ToHexString() : "";

    public void ExpectOutputs(int count) => Volatile.Write(ref _pendingOutputs, count);

    /// <summary>Counts one acknowledged output; true when it was the last one owed.</summary>
    public bool OutputDone() => Interlocked.Decrement(ref _pendingOutputs) == 0;
}
