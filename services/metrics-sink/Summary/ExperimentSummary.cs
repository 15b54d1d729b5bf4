using Mesh.MetricsSink.Verdicts;

namespace Mesh.MetricsSink.Summary;

internal sealed record ExperimentSummary(string Experiment, IReadOnlyList<ArmSummary> Arms, ExperimentVerdict? Verdict = null);
