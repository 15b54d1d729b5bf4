namespace Mesh.MetricsSink.Aggregation;

/// <summary>One change to the durable aggregates: add <paramref name="Increment"/> to a figure, or, with <paramref name="Text"/>, set it.</summary>
internal readonly record struct AggregateWrite(string Field, double Increment, string? Text = null);
