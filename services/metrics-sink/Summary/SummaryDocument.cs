namespace Mesh.MetricsSink.Summary;

/// <summary><c>summary.json</c> exactly as docs/internal-contracts.md pins it (camelCase on the wire).</summary>
internal sealed record SummaryDocument(
    DateTime Updated,
    long Predictions,
    long Labels,
    long Joined,
    long DuplicatePredictions,
    long UnmatchedLabels,
    long PendingPredictions,
    long PendingLabels,
    IReadOnlyList<ExperimentSummary> Experiments)
{
    /// <summary>The router's dead letters that name no arm (each arm's own are in its <see cref="ArmSummary.DeadLetters"/>).</summary>
    public UnattributedDeadLetterSummary? UnattributedDeadLetters { get; init; }

    /// <summary>Each arm's drift (docs/drift.md): the last window per feature, worst first, and the last windows' PSI.</summary>
    public IReadOnlyList<ArmDriftSummary>? Drift { get; init; }
}
