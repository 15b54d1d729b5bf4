namespace Mesh.Cli.DeadLetters;

/// <summary>What <c>mesh dead-letters list</c> reads, which dead letters it counts, and how it prints them.</summary>
internal sealed record DeadLetterListSettings(string BootstrapServers, string Topic, DeadLetterFilter Filter, bool Json);
