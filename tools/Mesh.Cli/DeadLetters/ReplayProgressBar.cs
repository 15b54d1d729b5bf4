using System.Globalization;
using System.Text;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// A one-line bar on standard error while a replay sends, redrawn in place at most four times a second
/// (the producer service's bar, reduced to what a replay counts). Standard output stays free for the summary.
/// </summary>
internal sealed class ReplayProgressBar(TextWriter terminal, int total, TimeProvider time)
{
    private const int Width = 30;
    private static readonly TimeSpan s_redraw = TimeSpan.FromMilliseconds(250);

    private readonly StringBuilder _line = new(120);
    private readonly long _started = time.GetTimestamp();
    private TimeSpan? _lastDraw;

    public void Draw(int sent, int acknowledged, int failed, bool force = false)
    {
        var elapsed = time.GetElapsedTime(_started);
        if (!force && _lastDraw is { } last && elapsed - last < s_redraw)
        {
            return;
        }

        _lastDraw = elapsed;
        var fraction = total > 0 ? Math.Clamp((double)(acknowledged + failed) / total, 0, 1) : 1;
        var filled = (int)Math.Round(fraction * Width);
        _line.Clear()
            .Append('\r')
            .Append('[').Append('#', filled).Append('-', Width - filled).Append("] ")
            .Append(CultureInfo.InvariantCulture, $"{fraction * 100,3:F0}%  sent {sent:N0}/{total:N0}  acknowledged {acknowledged:N0}  failed {failed:N0}  {elapsed:mm\\:ss}   ");
        terminal.Write(_line.ToString());
        terminal.Flush();
    }

    public void Finish(int sent, int acknowledged, int failed)
    {
        Draw(sent, acknowledged, failed, force: true);
        terminal.WriteLine();
        terminal.Flush();
    }
}
