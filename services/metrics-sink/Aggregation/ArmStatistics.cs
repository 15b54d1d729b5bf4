namespace Mesh.MetricsSink.Aggregation;

/// <summary>The running counts of one experiment arm. Guarded by the joiner's lock.</summary>
internal sealed class ArmStatistics(string experiment, string arm, bool shadow)
{
    public string Experiment => experiment;

    public string Arm => arm;

    public bool Shadow => shadow;

    // The latest model seen on the arm: a hot swap changes it mid-run.
    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    public long Predictions { get; set; }

    public long Joined { get; set; }

    public long Correct { get; set; }

    public long Fallbacks { get; set; }

    public LatencyHistogram Latency { get; } = new();
}
