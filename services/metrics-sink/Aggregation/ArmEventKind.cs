namespace Mesh.MetricsSink.Aggregation;

/// <summary>The kinds of change to an arm's totals that the durable join state persists.</summary>
internal enum ArmEventKind
{
    Prediction,
    Join,
    ShadowComparison,
    AnsweredElsewhere,
}
