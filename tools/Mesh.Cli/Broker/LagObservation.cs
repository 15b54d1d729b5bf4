namespace Mesh.Cli.Broker;

/// <summary>What one lag check saw of a group on a partition: its committed offset and the log's start.</summary>
internal readonly record struct LagObservation(long Committed, long Low);
