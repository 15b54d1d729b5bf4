namespace Mesh.MetricsSink.Aggregation;

/// <summary>What one arm did in one closed window.</summary>
internal sealed record ArmWindow(
    string Experiment,
    string Arm,
    bool Shadow,
    string Model,
    string Version,
    string PolicyVersion,
    OutcomeCounters Counters);
