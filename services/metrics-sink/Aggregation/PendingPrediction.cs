using Mesh.Contracts.V1;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>One arm's prediction of a request, as the join keeps it until (and after) its label comes.</summary>
internal readonly record struct PendingPrediction(ArmStatistics Arm, string PredictedLabel, PredictionOutput? Output)
{
    /// <summary>Joined with a label another instance stored in Redis; a label here would be a duplicate of it.</summary>
    public bool RemotelyJoined { get; init; }
}
