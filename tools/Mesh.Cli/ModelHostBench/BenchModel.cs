namespace Mesh.Cli.ModelHostBench;

/// <summary>A model the benchmark serves, and what it is.</summary>
internal sealed record BenchModel(string Name, string Version, string InputName, int Features, string ModelPath, string Description);
