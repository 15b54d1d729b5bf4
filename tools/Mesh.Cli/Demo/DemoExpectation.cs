namespace Mesh.Cli.Demo;

/// <summary>Every experiment's primary arms predicted (and joined) <see cref="Records"/> records.</summary>
internal sealed record DemoExpectation(int Records, int Experiments)
{
    public long Least(DemoSummary summary) =>
        summary.Experiments.Count < Experiments ? 0 : summary.Experiments.Min(e => e.Arms.Where(a => !a.Shadow).Sum(a => a.Predictions));

    public bool IsMet(DemoSummary summary) =>
        summary.Experiments.Count >= Experiments
        && summary.Experiments.All(e => e.Arms.Where(a => !a.Shadow).Sum(a => a.Predictions) >= Records && e.Arms.Where(a => !a.Shadow).Sum(a => a.Joined) >= Records);
}
