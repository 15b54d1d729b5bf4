namespace Mesh.MetricsSink.Aggregation;

/// <summary>What the entity-and-time join holds for one entity, each list capped. Guarded by the joiner's lock.</summary>
internal sealed class EntityJoinState
{
    /// <summary>The entity's predictions by event time; the request-id join holds them.</summary>
    public List<(long Ticks, string RequestId)> Predictions { get; } = [];

    /// <summary>Labels that came before any prediction they could join.</summary>
    public List<(long Observed, ObservedLabel Value, long Seen)> Waiting { get; } = [];

    /// <summary>Labels seen within the window, to tell a redelivery from a new label.</summary>
    public List<(long Observed, string Value, long Seen)> LabelsSeen { get; } = [];
}
