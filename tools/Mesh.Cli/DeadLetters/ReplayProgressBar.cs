using System.Globalization;
using Mesh.Terminal;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// A one-line bar on standard error while a replay sends, redrawn in place at most four times a second
/// (the producer service's bar, reduced to what a replay counts). Standard output stays free for the summary.
/// </summary>
internal sealed class ReplayProgressBar(TextWriter terminal, int total, TimeProvider time)
{
    private readonly ProgressLine _line = new(terminal);
    private readonly long _started = time.GetTimestamp();

    public void Draw(int sent, int acknowledged, int failed, bool force = false)
    {
        var elapsed = time.GetElapsedTime(_started);
        if (!_line.Due(elapsed, force))
        {
            return;
        }

        var fraction = total > 0 ? Math.Clamp((double)(acknowledged + failed) / total, 0, 1) : 1;
        _line.Draw(fraction, string.Create(CultureInfo.InvariantCulture, $"{fraction * 100,3:F0}%  sent {sent:N0}/{total:N0}  acknowledged {acknowledged:N0}  failed {failed:N0}  {elapsed:mm\\:ss}   "));
    }

    public void Finish(int sent, int acknowledged, int failed)
    {
        Draw(sent, acknowledged, failed, force: true);
        terminal.WriteLine();
        terminal.Flush();
    }
}
