using System.Globalization;

namespace Mesh.Cli.DeadLetters;

/// <summary>Offsets <c>first</c> to <c>last</c> inclusive, written <c>10-20</c>, <c>10-</c> (to the end) or <c>15</c>.</summary>
internal sealed record OffsetRange(long First, long Last)
{
    public bool Contains(long offset) => offset >= First && offset <= Last;

    public static OffsetRange Parse(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var first = dash < 0 ? text : text[..dash];
        var last = dash < 0 ? text : text[(dash + 1)..];
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !(last.Length == 0 || long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException($"--offset '{text}' is not an offset range (e.g. 10-20, 10- or 15).");
        }

        var to = last.Length == 0 ? long.MaxValue : long.Parse(last, CultureInfo.InvariantCulture);
        return to >= from ? new OffsetRange(from, to) : throw new FormatException($"--offset '{text}' ends before it starts.");
    }
}
