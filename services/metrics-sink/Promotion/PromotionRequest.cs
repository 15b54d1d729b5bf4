using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Verdicts;

namespace Mesh.MetricsSink.Promotion;

/// <summary>The MLflow run an arm's figures go to this start (the tracking writer's run key and name).</summary>
internal sealed record ArmRun(string RunKey, string RunName);

/// <summary>
/// A winner the sequential test declared: its arm's figures, those of the primary arms it was compared with, the
/// verdict, and the runs the decision is recorded on.
/// </summary>
internal sealed record PromotionRequest(
    string Experiment,
    ArmSummary Winner,
    IReadOnlyList<ArmSummary> Others,
    ExperimentVerdict Verdict,
    IReadOnlyDictionary<string, ArmRun> Runs);
