namespace Mesh.Cli.Chaos;

/// <summary>
/// The longest stretch with no prediction on the topic: from the last prediction before it (<see cref="Start"/>,
/// by the time the router produced it) to the next one.
/// </summary>
internal sealed record PredictionGap(DateTime Start, TimeSpan Length)
{
    public static readonly PredictionGap None = new(DateTime.MinValue, TimeSpan.Zero);

    public DateTime End => Start + Length;

    /// <summary>The longest gap between two consecutive <paramref name="times"/> (sorted in place).</summary>
    public static PredictionGap Longest(List<DateTime> times) =>
        Longer(times, TimeSpan.Zero).MaxBy(g => g.Length) ?? None;

    /// <summary>Every gap between two consecutive <paramref name="times"/> (sorted in place) longer than <paramref name="than"/>, in order.</summary>
    public static List<PredictionGap> Longer(List<DateTime> times, TimeSpan than)
    {
        times.Sort();
        var gaps = new List<PredictionGap>();
        for (var n = 1; n < times.Count; n++)
        {
            var gap = times[n] - times[n - 1];
            if (gap > than)
            {
                gaps.Add(new PredictionGap(times[n - 1], gap));
            }
        }

        return gaps;
    }
}
