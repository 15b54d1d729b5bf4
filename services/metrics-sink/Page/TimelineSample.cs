namespace Mesh.MetricsSink.Page;

/// <summary>The totals of every arm at one instant (<see cref="T"/>: Unix milliseconds).</summary>
internal sealed record TimelineSample(long T, IReadOnlyList<ArmSample> Arms);
