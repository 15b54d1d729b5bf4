namespace Mesh.Cli.DeadLetters;

/// <summary>A dead-letter topic read to its end: the dead letters, and how many records were something else.</summary>
internal sealed record DeadLetterSnapshot(IReadOnlyList<DeadLetterEntry> Entries, int Unreadable);
