using System.Globalization;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// A point in time on the command line: an ISO 8601 time (<c>2026-12-01T15:00:00Z</c>, UTC unless it says
/// otherwise) or an age before now (<c>90s</c>, <c>30m</c>, <c>2h</c>, <c>7d</c>).
/// </summary>
internal static class TimeArgument
{
    public static DateTime? Parse(string? text, string option, DateTime utcNow)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var unit = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            _ => TimeSpan.Zero,
        };
        if (unit != TimeSpan.Zero && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var count) && count >= 0)
        {
            return utcNow - (unit * count);
        }

        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        throw new FormatException($"{option} '{text}' is neither a time (2026-12-01T15:00:00Z) nor an age (30m, 2h, 7d).");
    }
}
