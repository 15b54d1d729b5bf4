namespace Mesh.Cli.DeadLetters;

/// <summary>Dead letters that share a reason, a service, an experiment and an arm; with the first one as the sample.</summary>
internal sealed record DeadLetterGroup(
    string ErrorClass,
    string ErrorMessage,
    string Service,
    string Experiment,
    string Arm,
    int Count,
    DateTime First,
    DateTime Last,
    DeadLetterEntry Sample)
{
    /// <summary>Groups the entries, largest group first (ties by reason, so the order is stable).</summary>
    public static IReadOnlyList<DeadLetterGroup> Build(IEnumerable<DeadLetterEntry> entries) =>
        entries
            .GroupBy(e => (e.Letter.ErrorClass, e.Letter.ErrorMessage, e.Letter.Service, e.Letter.Experiment, e.Letter.Arm))
            .Select(g =>
            {
                var ordered = g.OrderBy(e => e.Time).ToList();
                return new DeadLetterGroup(g.Key.ErrorClass, g.Key.ErrorMessage, g.Key.Service, g.Key.Experiment, g.Key.Arm,
                    ordered.Count, ordered[0].Time, ordered[^1].Time, ordered[0]);
            })
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.ErrorClass, StringComparer.Ordinal)
            .ThenBy(g => g.ErrorMessage, StringComparer.Ordinal)
            .ThenBy(g => g.Service, StringComparer.Ordinal)
            .ThenBy(g => g.Experiment, StringComparer.Ordinal)
            .ThenBy(g => g.Arm, StringComparer.Ordinal)
            .ToList();
}
