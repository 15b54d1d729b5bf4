using Mesh.Contracts.V1;
using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>One arm's prediction of a request, as the join keeps it until (and after) its label comes.</summary>
/// <param name="Arm">The arm that answered: the fallback arm's, when the fallback answered for the arm the Prediction names.</param>
/// <param name="DeclaredArm">The arm the Prediction names (its Redis field and its identity as a duplicate).</param>
internal readonly record struct PendingPrediction(ArmStatistics Arm, string DeclaredArm, string PredictedLabel, PredictionOutput? Output)
{
    /// <summary>Joined with a label another instance stored in Redis; a label here would be a duplicate of it.</summary>
    public bool RemotelyJoined { get; init; }

    /// <summary>The prediction's record, for the span of the join its label completes; null when read elsewhere or untraced.</summary>
    public RecordTrace? Trace { get; init; }

    /// <summary>The request-hash field of this prediction in the Redis join state.</summary>
    public string Field => SharedJoinOperation.PredictionField(Arm.Experiment, DeclaredArm, Arm.Shadow);
}
