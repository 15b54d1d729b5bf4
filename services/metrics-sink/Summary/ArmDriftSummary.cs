namespace Mesh.MetricsSink.Summary;

/// <summary>
/// One arm's drift in <c>summary.json</c> and on the page: the last closed window per feature, worst first, and the
/// PSI of the last windows for the page's heat strip. Null where the window had too few values to measure (JSON has no NaN).
/// </summary>
/// <param name="Reference"><c>training</c>, <c>first-records</c> or <c>collecting</c> (docs/drift.md).</param>
/// <param name="Windows">The window indexes (the MLflow steps) of <see cref="FeatureDriftSummary.History"/>, oldest first.</param>
internal sealed record ArmDriftSummary(
    string Experiment,
    string Arm,
    bool Shadow,
    string Model,
    string Version,
    string Reference,
    long ReferenceRows,
    long Records,
    double? PredictionPsi,
    bool PredictionAlert,
    IReadOnlyList<long> Windows,
    IReadOnlyList<FeatureDriftSummary> Features);
