namespace Mesh.MetricsSink.Aggregation;

/// <summary>What changed one arm's totals: kept for the durable join state, which persists it with its record.</summary>
/// <param name="Flag">Fallback for a prediction, agreement for a shadow comparison.</param>
internal readonly record struct ArmEvent(ArmEventKind Kind, bool Flag, double LatencyMs, JoinScore Score);
