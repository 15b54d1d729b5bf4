using System.Text;

namespace Mesh.Terminal;

/// <summary>
/// A one-line progress bar on a terminal (standard error, so standard output stays free for data), redrawn in place
/// at most four times a second. The producer's publish bar and <c>mesh dead-letters replay</c>'s bar both draw
/// through it; each says what its counts are.
/// </summary>
public sealed class ProgressLine(TextWriter terminal)
{
    /// <summary>Characters of the bar between its brackets.</summary>
    public const int Width = 30;

    private static readonly TimeSpan s_redraw = TimeSpan.FromMilliseconds(250);

    private readonly StringBuilder _line = new(160);
    private TimeSpan? _lastDraw;

    /// <summary>
    /// Whether a draw at <paramref name="elapsed"/> is due: the first one, any <paramref name="force"/>d one, or one a
    /// quarter of a second after the last. A due draw counts as drawn.
    /// </summary>
    public bool Due(TimeSpan elapsed, bool force = false)
    {
        if (!force && _lastDraw is { } last && elapsed - last < s_redraw)
        {
            return false;
        }

        _lastDraw = elapsed;
        return true;
    }

    /// <summary>Draws <c>[####------] </c> filled to <paramref name="fraction"/> (0 to 1), then <paramref name="text"/>.</summary>
    public void Draw(double fraction, string text)
    {
        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * Width);
        _line.Clear()
            .Append('\r')
            .Append('[').Append('#', filled).Append('-', Width - filled).Append("] ")
            .Append(text);
        terminal.Write(_line.ToString());
        terminal.Flush();
    }
}
