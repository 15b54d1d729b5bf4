namespace Mesh.MetricsSink.Summary;

/// <summary>Each arm's drift for <c>summary.json</c> (the drift monitor), so the summary needs nothing of how drift is measured.</summary>
internal interface IDriftSummaries
{
    public IReadOnlyList<ArmDriftSummary> Summaries();
}
