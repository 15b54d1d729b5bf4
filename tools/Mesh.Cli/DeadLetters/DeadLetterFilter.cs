namespace Mesh.Cli.DeadLetters;

/// <summary>
/// Which dead letters a command works on. Every given condition must hold; <see cref="Partitions"/> and
/// <see cref="Offsets"/> are positions in the dead-letter topic (what <c>list</c> shows and replay headers carry).
/// </summary>
internal sealed record DeadLetterFilter(
    DateTime? Since = null,
    DateTime? Until = null,
    string? Reason = null,
    string? Service = null,
    string? Experiment = null,
    IReadOnlySet<int>? Partitions = null,
    IReadOnlyList<OffsetRange>? Offsets = null)
{
    public static DeadLetterFilter All { get; } = new();

    public bool Matches(DeadLetterEntry entry)
    {
        var time = entry.Time;
        return (Since is null || time >= Since)
            && (Until is null || time < Until)
            && (string.IsNullOrEmpty(Reason) || entry.Reason.Contains(Reason, StringComparison.OrdinalIgnoreCase))
            && (string.IsNullOrEmpty(Service) || string.Equals(entry.Letter.Service, Service, StringComparison.Ordinal))
            && (string.IsNullOrEmpty(Experiment) || string.Equals(entry.Letter.Experiment, Experiment, StringComparison.Ordinal))
            && (Partitions is null || Partitions.Count == 0 || Partitions.Contains(entry.Partition))
            && (Offsets is null || Offsets.Count == 0 || Offsets.Any(r => r.Contains(entry.Offset)));
    }
}
