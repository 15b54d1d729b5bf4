namespace Mesh.MetricsSink.Aggregation;

/// <summary>The sink-wide counts of the summary. Guarded by the joiner's lock.</summary>
internal sealed class JoinCounts
{
    public long Predictions { get; set; }

    public long Labels { get; set; }

    public long Joined { get; set; }

    public long Duplicates { get; set; }

    public long UnmatchedLabels { get; set; }

    /// <summary>Predictions whose label never came within the window (not in the summary shape; logged and metered).</summary>
    public long UnjoinedPredictions { get; set; }

    public long PendingPredictions { get; set; }

    public long PendingLabels { get; set; }
}
