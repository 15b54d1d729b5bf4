namespace Mesh.MetricsSink.Page;

/// <summary>
/// One arm's running totals at one instant; the page derives rates and windowed accuracy from two of them. The
/// latency percentiles are not running: they are of the predictions made over the last
/// <see cref="ExperimentTimeline.LatencyWindowSamples"/> sampling intervals (null when the arm made none), so a slow
/// start does not hide in a since-start figure.
/// </summary>
internal sealed record ArmSample(
    string Experiment,
    string Arm,
    bool Shadow,
    long Predictions,
    long Joined,
    long Correct,
    long Fallbacks,
    double? LatencyP50Ms,
    double? LatencyP99Ms);
