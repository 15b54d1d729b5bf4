using Mesh.Contracts.V1;
using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// One record or expiry waiting for the shared join state, queued by the joiner and answered by
/// <see cref="RedisJoinState"/> in one pipelined batch; the joiner then applies the answer in queue order.
/// </summary>
internal sealed class SharedJoinOperation(SharedJoinKind kind, string requestId)
{
    /// <summary>The hash field of the label in a request's hash.</summary>
    public const string LabelField = "l";

    public SharedJoinKind Kind => kind;

    public string RequestId => requestId;

    public Prediction? Prediction { get; init; }

    public Label? Label { get; init; }

    /// <summary>Where the record was read (topic and partition), so that its restarted reader can be told apart from another instance; empty when unknown.</summary>
    public string Origin { get; init; } = "";

    /// <summary>The record's trace, kept by the join once Redis answers; null when untraced.</summary>
    public RecordTrace? Trace { get; init; }

    /// <summary>For a record Redis joined: the traces of the partners this instance held (read here).</summary>
    public IReadOnlyList<RecordTrace> JoinedTraces { get; set; } = [];

    /// <summary>For <see cref="SharedJoinKind.ExpirePredictions"/>: the hash fields of the expired predictions.</summary>
    public IReadOnlyList<string> Fields { get; init; } = [];

    /// <summary>Position in the joiner's queue (from 1); operations are applied in this order.</summary>
    public long Sequence { get; set; }

    /// <summary>Redis did not answer: the joiner decides the operation in memory, as without Redis.</summary>
    public bool Failed { get; set; }

    /// <summary>The record was already in the shared state (a duplicate, possibly seen by another instance).</summary>
    public bool Seen { get; set; }

    /// <summary>For a new prediction: the label stored for its request (a protobuf <c>Label</c>), or null.</summary>
    public byte[]? PartnerLabel { get; set; }

    /// <summary>For a new label: the stored predictions of its request, by hash field (protobuf <c>Prediction</c>s).</summary>
    public IReadOnlyList<(string Field, byte[] Bytes)> PartnerPredictions { get; set; } = [];

    /// <summary>For an expiry: the partner came to another instance, which counted the join.</summary>
    public bool JoinedElsewhere { get; set; }

    /// <summary>
    /// The request-hash field that marks this operation's effect on the aggregates as persisted; null when it had none
    /// (a duplicate, or decided in memory).
    /// </summary>
    public string? CountedMark { get; set; }

    /// <summary>What this operation added to the aggregates, persisted with <see cref="CountedMark"/> once.</summary>
    public IReadOnlyList<AggregateWrite> Writes { get; set; } = [];

    /// <summary>The hash field of one arm's prediction: experiment, arm and shadow, unit-separated.</summary>
    public static string PredictionField(string experiment, string arm, bool shadow) =>
        string.Concat("p:", experiment, "\u001f", arm, shadow ? "\u001f1" : "\u001f0");
}
