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
/// A join Redis decides later (<c>MetricsSink:JoinState=Redis</c>) has no such span.
/// </summary>
internal sealed class JoinTracer(string groupId, int capacity = 100_000)
{
    // A request's primary and shadow predictions: a label joins them all.
    private const int MaxPerKey = 8;

    private readonly Dictionary<string, List<Side>> _predictions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Side>> _labels = new(StringComparer.Ordinal);
    private readonly Queue<(bool Label, string Key)> _order = new();
    private readonly object _gate = new();

    private static ActivitySource Source => MetricsSinkTelemetry.ActivitySource;

    /// <summary>Remembers a waiting prediction's record, to be linked when its label comes.</summary>
    public void Remember(Prediction prediction, ConsumeResult<byte[], byte[]> record)
    {
        if (Source.HasListeners())
        {
            var side = Side.Of(record, prediction.TraceId) with { Experiment = prediction.Experiment };
            Add(_predictions, false, prediction.RequestId, side);
            Add(_predictions, false, EntityKey(prediction.EntityId), side);
        }
    }

    /// <summary>Remembers a waiting label's record, to be linked when its prediction comes.</summary>
    public void Remember(Label label, ConsumeResult<byte[], byte[]> record)
    {
        if (Source.HasListeners())
        {
            var side = Side.Of(record, "");
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

    private void Emit(string experiment, IReadOnlyList<Side> predictions, IReadOnlyList<Side> labels)
    {
        if (!Source.HasListeners())
        {
            return;
        }

        var links = new List<ActivityLink>(predictions.Count + labels.Count);
        links.AddRange(predictions.Where(p => p.Context != default).Select(p => p.Link("prediction")));
        links.AddRange(labels.Where(l => l.Context != default).Select(l => l.Link("label")));
        using var activity = Source.StartActivity(ActivityKind.Internal, Activity.Current?.Context ?? default, links: links,
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

    private static string EntityKey(string entityId) => entityId.Length == 0 ? "" : "\u001fentity:" + entityId;

    private IReadOnlyList<Side> Find(Dictionary<string, List<Side>> table, string requestId, string entityId)
    {
        lock (_gate)
        {
            if (requestId.Length > 0 && table.Remove(requestId, out var byRequest))
            {
                return byRequest;
            }

            // An entity-time join matches by entity: its latest record.
            return EntityKey(entityId) is { Length: > 0 } key && table.TryGetValue(key, out var byEntity) ? [byEntity[^1]] : [];
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
