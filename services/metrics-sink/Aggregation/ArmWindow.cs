namespace Mesh.MetricsSink.Aggregation;

/// <summary>What one arm did in one closed window.</summary>
internal sealed record ArmWindow(
    string Experiment,
    string Arm,
    bool Shadow,
    string Model,
    string Version,
    string PolicyVersion,
    OutcomeCounters Counters)
{
    /// <summary>The experiment's strategy as the arm's Predictions said (<c>mesh.strategy</c>); empty when they did not.</summary>
    public string Strategy => Counters.Strategy;

    /// <summary>The arm's configured weight as its Predictions said (<c>mesh.weight</c>); empty when they did not.</summary>
    public string Weight => Counters.Weight;

    /// <summary>The window's dead-letter rate; null for shadows and for a window with neither predictions nor dead letters.</summary>
    public double? DeadLetterRate => Shadow ? null : Counters.DeadLetterRate;
}
