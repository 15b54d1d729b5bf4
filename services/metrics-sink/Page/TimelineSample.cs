namespace Mesh.MetricsSink.Page;

/// <summary>The totals of every arm, and of shedding per experiment, at one instant (<see cref="T"/>: Unix milliseconds).</summary>
internal sealed record TimelineSample(long T, IReadOnlyList<ArmSample> Arms, IReadOnlyList<ShedSample> Shedding);
