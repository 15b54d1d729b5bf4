namespace Mesh.MetricsSink.Page;

/// <summary>An experiment's primary Predictions so far, and those routed by shedding, at one instant.</summary>
internal sealed record ShedSample(string Experiment, long Predictions, long Shed);
