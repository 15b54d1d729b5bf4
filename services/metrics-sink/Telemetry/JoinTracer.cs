using System.Diagnostics;
using Confluent.Kafka;
using Mesh.Contracts.V1;

namespace Mesh.MetricsSink.Telemetry;

/// <summary>
/// The span of a prediction-label join (<c>join {experiment}</c>), so one trace view leads from a record's prediction
/// to its outcome: a child of the record that completed the join, with OpenTelemetry span links to the prediction's
/// trace (its record's <c>traceparent</c>; its <c>trace_id</c>, the FeatureRecord's, as <c>mesh.prediction.trace_id</c>)
/// and the label's, each link with the messaging coordinates of its record. The other side is the join's: each waiting
/// record keeps its <see cref="RecordTrace"/> (captured only while someone listens), and the join hands over the
/// traces of the records it joined. A join Redis decides later (<c>MetricsSink:JoinState=Redis</c>) gets its span when
/// Redis answers, a child of the completing record's span as it was read; a partner another instance read is known by
/// its Prediction's <c>trace_id</c> only (an attribute, not a link: a link needs the span).
/// </summary>
/// <param name="groupId">The sink's consumer group, an attribute of each join span.</param>
/// <param name="capacity">
/// Waiting records that keep their link at most. Tracing is on in every service, so a link is memory every sink
/// spends while the record waits: beyond this the oldest waiting record loses its link (its join still has a span).
/// </param>
internal sealed class JoinTracer(string groupId, int capacity = 20_000)
{
    private readonly Queue<RecordTrace> _linked = new();
    private readonly Lock _gate = new();

    private static ActivitySource Source => MetricsSinkTelemetry.ActivitySource;

    /// <summary>The trace of a prediction's record, for the join to keep; null while nobody listens.</summary>
    public static RecordTrace? Capture(Prediction prediction, ConsumeResult<byte[], byte[]> record) =>
        Source.HasListeners() ? RecordTrace.Of(record, prediction.TraceId, prediction.Experiment) : null;

    /// <summary>The trace of a label's record, for the join to keep; null while nobody listens.</summary>
    public static RecordTrace? Capture(ConsumeResult<byte[], byte[]> labelRecord) =>
        Source.HasListeners() ? RecordTrace.Of(labelRecord, "", "") : null;

    /// <summary>A record that now waits (or waits for Redis) keeps its link, within <c>capacity</c>: the oldest loses its own.</summary>
    public void Waiting(RecordTrace trace)
    {
        lock (_gate)
        {
            _linked.Enqueue(trace);
            while (_linked.Count > capacity)
            {
                _linked.Dequeue().Forget();
            }
        }
    }

    /// <summary>The span of the join a label completed, linked to the predictions it joined.</summary>
    public void LabelJoined(RecordTrace label, IReadOnlyList<RecordTrace> predictions) =>
        Emit(predictions.Count > 0 ? predictions[0].Experiment : "", predictions, [label], Activity.Current?.Context ?? default);

    /// <summary>The span of the join a prediction completed, linked to the label that waited for it.</summary>
    public void PredictionJoined(RecordTrace prediction, IReadOnlyList<RecordTrace> labels) =>
        Emit(prediction.Experiment, [prediction], labels, Activity.Current?.Context ?? default);

    /// <summary>
    /// The span of a join Redis decided for a label this instance read: linked to the predictions it joined, those
    /// read here by their records, those another instance read by their trace ids.
    /// </summary>
    public void LabelJoinedInRedis(RecordTrace? label, IReadOnlyList<RecordTrace> seen, IEnumerable<Prediction> partners)
    {
        if (!Source.HasListeners())
        {
            return;
        }

        var remote = partners.Where(p => seen.All(s => s.TraceId != p.TraceId)).Select(p => RecordTrace.Remote(p.TraceId, p.Experiment));
        var predictions = seen.Concat(remote).ToList();
        Emit(predictions.Count > 0 ? predictions[0].Experiment : "", predictions, label is null ? [] : [label], label?.Process ?? default);
    }

    /// <summary>The span of a join Redis decided for a prediction this instance read, linked to the label it joined.</summary>
    public void PredictionJoinedInRedis(Prediction prediction, RecordTrace? own, IReadOnlyList<RecordTrace> labels)
    {
        if (Source.HasListeners())
        {
            Emit(prediction.Experiment, [own ?? RecordTrace.Remote(prediction.TraceId, prediction.Experiment)], labels, own?.Process ?? default);
        }
    }

    private void Emit(string experiment, IReadOnlyList<RecordTrace> predictions, IReadOnlyList<RecordTrace> labels, ActivityContext parent)
    {
        if (!Source.HasListeners())
        {
            return;
        }

        var links = new List<ActivityLink>(predictions.Count + labels.Count);
        links.AddRange(predictions.Where(p => p.Context != default).Select(p => p.Link("prediction")));
        links.AddRange(labels.Where(l => l.Context != default).Select(l => l.Link("label")));
        using var activity = Source.StartActivity(ActivityKind.Internal, parent, links: links,
            name: experiment.Length > 0 ? "join " + experiment : "join");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.consumer.group.name", groupId);
            activity.SetTag("mesh.experiment", experiment);
            if (predictions.FirstOrDefault(p => p.TraceId.Length > 0)?.TraceId is { Length: > 0 } traceId)
            {
                activity.SetTag("mesh.prediction.trace_id", traceId);
            }
        }
    }
}
