using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Mesh.Contracts.V1;
using Mesh.Kafka;

namespace Mesh.MetricsSink.Telemetry;

/// <summary>
/// The span of a prediction-label join (<c>join {experiment}</c>), so one trace view leads from a record's prediction
/// to its outcome: a child of the record that completed the join, with OpenTelemetry span links to the prediction's
/// trace (its record's <c>traceparent</c>; its <c>trace_id</c>, the FeatureRecord's, as <c>mesh.prediction.trace_id</c>)
/// and the label's, each link with the messaging coordinates of its record. The other side's context is remembered
/// from when its record was read, only while someone listens, in a bounded table (the oldest is forgotten first).
/// A join Redis decides later (<c>MetricsSink:JoinState=Redis</c>) gets its span when Redis answers, a child of the
/// completing record's span as it was read; a partner another instance read is known by its Prediction's
/// <c>trace_id</c> only (an attribute, not a link: a link needs the span).
/// </summary>
/// <param name="groupId">The sink's consumer group, an attribute of each join span.</param>
/// <param name="byEntity">Labels join by entity and time: records are also remembered by entity (its latest).</param>
/// <param name="capacity">
/// Records remembered at most. Tracing is on in every service, so this is memory every sink spends: beyond it the
/// oldest waiting record loses its link (its join still has a span).
/// </param>
internal sealed class JoinTracer(string groupId, bool byEntity = false, int capacity = 20_000)
{
    // A request's primary and shadow predictions: a label joins them all.
    private const int MaxPerKey = 8;

    private readonly Dictionary<string, List<Side>> _predictions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Side>> _labels = new(StringComparer.Ordinal);
    private readonly Queue<(bool Label, string Key)> _order = new();
    private readonly object _gate = new();

    private static ActivitySource Source => MetricsSinkTelemetry.ActivitySource;

    /// <summary>Remembers a waiting (or Redis-deferred) prediction's record, to be linked when its label comes.</summary>
    public void Remember(Prediction prediction, ConsumeResult<byte[], byte[]> record)
    {
        if (Source.HasListeners())
        {
            var side = Side.Of(record, prediction.TraceId) with { Experiment = prediction.Experiment, Process = Activity.Current?.Context ?? default };
            Add(_predictions, false, prediction.RequestId, side);
            Add(_predictions, false, EntityKey(prediction.EntityId), side);
        }
    }

    /// <summary>Remembers a waiting (or Redis-deferred) label's record, to be linked when its prediction comes.</summary>
    public void Remember(Label label, ConsumeResult<byte[], byte[]> record)
    {
        if (Source.HasListeners())
        {
            var side = Side.Of(record, "") with { Process = Activity.Current?.Context ?? default };
            Add(_labels, true, label.RequestId, side);
            Add(_labels, true, EntityKey(label.EntityId), side);
        }
    }

    /// <summary>The span of the join a label completed, linked to the predictions it joined.</summary>
    public void Joined(Label label, ConsumeResult<byte[], byte[]> record)
    {
        var predictions = Find(_predictions, label.RequestId, label.EntityId);
        Emit(predictions.Count > 0 ? predictions[0].Experiment : "", predictions, [Side.Of(record, "")]);
    }

    /// <summary>The span of the join a prediction completed, linked to the label that waited for it.</summary>
    public void Joined(Prediction prediction, ConsumeResult<byte[], byte[]> record) =>
        Emit(prediction.Experiment, [Side.Of(record, prediction.TraceId) with { Experiment = prediction.Experiment }], Find(_labels, prediction.RequestId, prediction.EntityId));

    /// <summary>
    /// The span of a join Redis decided for a label this instance read: linked to the predictions it joined, those
    /// read here by their records, those another instance read by their trace ids.
    /// </summary>
    public void JoinedInRedis(Label label, IEnumerable<Prediction> partners)
    {
        if (!Source.HasListeners())
        {
            return;
        }

        var own = Find(_labels, label.RequestId, "");
        var seen = Find(_predictions, label.RequestId, "");
        var remote = partners.Where(p => seen.All(s => s.TraceId != p.TraceId)).Select(p => new Side(default, "", 0, 0, p.TraceId) { Experiment = p.Experiment });
        var predictions = seen.Concat(remote).ToList();
        Emit(predictions.Count > 0 ? predictions[0].Experiment : "", predictions, own, Parent(own));
    }

    /// <summary>The span of a join Redis decided for a prediction this instance read, linked to the label it joined.</summary>
    public void JoinedInRedis(Prediction prediction)
    {
        if (Source.HasListeners())
        {
            var own = Find(_predictions, prediction.RequestId, "");
            Emit(prediction.Experiment, own.Count > 0 ? own : [new Side(default, "", 0, 0, prediction.TraceId)], Find(_labels, prediction.RequestId, ""), Parent(own));
        }
    }

    private static ActivityContext Parent(IReadOnlyList<Side> own) => own.Count > 0 ? own[^1].Process : default;

    private void Emit(string experiment, IReadOnlyList<Side> predictions, IReadOnlyList<Side> labels) =>
        Emit(experiment, predictions, labels, Activity.Current?.Context ?? default);

    private void Emit(string experiment, IReadOnlyList<Side> predictions, IReadOnlyList<Side> labels, ActivityContext parent)
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
            if (predictions.FirstOrDefault(p => p.TraceId.Length > 0).TraceId is { Length: > 0 } traceId)
            {
                activity.SetTag("mesh.prediction.trace_id", traceId);
            }
        }
    }

    private string EntityKey(string entityId) => !byEntity || entityId.Length == 0 ? "" : "\u001fentity:" + entityId;

    private IReadOnlyList<Side> Find(Dictionary<string, List<Side>> table, string requestId, string entityId)
    {
        lock (_gate)
        {
            if (requestId.Length > 0 && table.Remove(requestId, out var byRequest))
            {
                return byRequest;
            }

            // An entity-time join matches by entity: its latest record.
            return EntityKey(entityId) is { Length: > 0 } key && table.TryGetValue(key, out var latest) ? [latest[^1]] : [];
        }
    }

    private void Add(Dictionary<string, List<Side>> table, bool label, string key, Side side)
    {
        if (key.Length == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!table.TryGetValue(key, out var sides))
            {
                table[key] = sides = new List<Side>(1);
                _order.Enqueue((label, key));
            }

            if (sides.Count == MaxPerKey)
            {
                sides.RemoveAt(0);
            }

            sides.Add(side);
            while (_order.Count > capacity && _order.TryDequeue(out var oldest))
            {
                (oldest.Label ? _labels : _predictions).Remove(oldest.Key);
            }
        }
    }

    private readonly record struct Side(ActivityContext Context, string Topic, int Partition, long Offset, string TraceId)
    {
        public string Experiment { get; init; } = "";

        /// <summary>The sink's own span of the record, when it was read: the parent of a join Redis decides later.</summary>
        public ActivityContext Process { get; init; }

        public static Side Of(ConsumeResult<byte[], byte[]> record, string traceId) =>
            new(MeshHeaders.ExtractTraceContext(record.Message.Headers), record.Topic, record.Partition.Value, record.Offset.Value, traceId);

        public ActivityLink Link(string side) => new(Context, new ActivityTagsCollection
        {
            ["mesh.join.side"] = side,
            ["messaging.destination.name"] = Topic,
            ["messaging.destination.partition.id"] = Partition.ToString(CultureInfo.InvariantCulture),
            ["messaging.kafka.offset"] = Offset,
        });
    }
}
