namespace Mesh.MetricsSink.Page;

/// <summary>One arm's running totals at one instant; the page derives rates and windowed accuracy from two of them.</summary>
internal sealed record ArmSample(
    string Experiment,
    string Arm,
    bool Shadow,
    long Predictions,
    long Joined,
    long Correct,
    long Fallbacks,
    double LatencyP50Ms,
    double LatencyP99Ms);
