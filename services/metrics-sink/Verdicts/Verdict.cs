namespace Mesh.MetricsSink.Verdicts;

/// <summary>The page's one-line answer for an experiment: who leads, by how much, and whether it is more than noise yet.</summary>
internal sealed record Verdict(string Experiment, string State, string? Leader, double DifferencePoints, double Z, string Text);
