using System.Globalization;

namespace Mesh.Cli.Chaos;

/// <summary>
/// When the run started and what it killed when, in the routers' clock (UTC), so that the report can say where the
/// longest time without predictions fell and which kill came just before it, in the seconds the run's own lines print.
/// </summary>
internal sealed class ChaosTimeline(DateTime startedAt, IReadOnlyList<ChaosKill> kills)
{
    // The kill is stamped after kill(2) returned, the victim's last prediction before: up to this much later is still "before".
    private static readonly TimeSpan s_stampSlack = TimeSpan.FromMilliseconds(250);

    /// <summary>Seconds since the start of the run, as the kill lines print them.</summary>
    public string At(DateTime time) => Seconds(time - startedAt) + " s";

    /// <summary>
    /// The last kill at or before <paramref name="gap"/> began: a service dies before its last prediction could be
    /// followed by the next, so the kill that stopped predictions is the one just before the gap's start, or the one
    /// that started it (stamped a few milliseconds after the victim's last prediction).
    /// </summary>
    public ChaosKill? Before(PredictionGap gap) =>
        kills.Where(k => k.At <= gap.Start + s_stampSlack).OrderBy(k => k.At).LastOrDefault();

    /// <summary>The kills while no prediction came (after the one <see cref="Before"/> names).</summary>
    public IReadOnlyList<ChaosKill> During(PredictionGap gap) =>
        [.. kills.Where(k => k.At > gap.Start + s_stampSlack && k.At < gap.End).OrderBy(k => k.At)];

    /// <summary>The report's rows about <paramref name="gap"/>: when it began and ended, the kill before it, the kills in it.</summary>
    public IEnumerable<(string What, string Value)> Describe(PredictionGap gap)
    {
        if (gap.Length == TimeSpan.Zero)
        {
            yield break;
        }

        yield return ("longest gap: from / to (seconds into the run)", $"{At(gap.Start)} / {At(gap.End)}");
        yield return ("longest gap: the kill just before it", Before(gap) is { } kill
            ? $"{kill.Service} at {At(kill.At)}"
            : "none");
        var during = During(gap);
        yield return ("longest gap: kills while it lasted", during.Count == 0 ? "none" : string.Join(", ", during.Select(k => $"{k.Service} at {At(k.At)}")));
    }

    /// <summary>
    /// Per killed service, the longest of <paramref name="gaps"/> that began after one of its kills (before the next
    /// kill): what killing that service cost, e.g. a model host's restart and the routers finding it again.
    /// </summary>
    public IEnumerable<(string What, string Value)> ByVictim(IReadOnlyList<PredictionGap> gaps)
    {
        var opened = gaps.Select(g => (Gap: g, Kill: Before(g))).Where(o => o.Kill is not null).ToList();
        foreach (var service in kills.Select(k => k.Service).Distinct().Order(StringComparer.Ordinal))
        {
            var after = opened.Where(o => o.Kill!.Service == service).ToList();
            yield return ($"longest gap after a {service} kill", after.Count > 0 && after.MaxBy(o => o.Gap.Length) is var (gap, kill)
                ? $"{Seconds(gap.Length)} s (kill at {At(kill!.At)})"
                : $"none over {Seconds(TopicAudit.ShortestGap)} s");
        }
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
}
