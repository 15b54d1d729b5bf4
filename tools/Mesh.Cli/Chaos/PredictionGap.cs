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
    public static PredictionGap Longest(List<DateTime> times)
    {
        times.Sort();
        var longest = None;
        for (var n = 1; n < times.Count; n++)
        {
            var gap = times[n] - times[n - 1];
            if (gap > longest.Length)
            {
                longest = new PredictionGap(times[n - 1], gap);
            }
        }

        return longest;
    }
}
