using System.Globalization;
using Mesh.Terminal;

namespace Mesh.Producer.Publishing;

/// <summary>
/// A one-line progress bar on standard error (redrawn in place at most four times a second), with the achieved
/// and target rates; at the end, the summary as a small table. Standard output stays free for data.
/// </summary>
internal sealed class ProgressBar(TextWriter terminal, long target, double durationSeconds)
{
    private readonly ProgressLine _line = new(terminal);
    private TimeSpan _rateAt;
    private long _rateAcked;
    private double _achieved;

    /// <summary>The bar <c>Producer:ProgressBar</c> asks for: on, off, or auto (only when standard error is a terminal).</summary>
    public static ProgressBar? Create(string setting, long target, double durationSeconds)
    {
        var on = setting.ToLowerInvariant() switch
        {
            "on" => true,
            "off" => false,
            _ => !Console.IsErrorRedirected,
        };
        return on ? new ProgressBar(Console.Error, target, durationSeconds) : null;
    }

    public void Draw(PublishProgress progress, double targetRate, TimeSpan elapsed)
    {
        if (!_line.Due(elapsed))
        {
            return;
        }

        var acked = progress.RecordsAcked;
        if (elapsed - _rateAt >= TimeSpan.FromSeconds(1))
        {
            // Achieved rate over the last second or so: what the cluster acknowledged, not what was queued.
            _achieved = (acked - _rateAcked) / Math.Max(0.001, (elapsed - _rateAt).TotalSeconds);
            _rateAt = elapsed;
            _rateAcked = acked;
        }

        var fraction = target > 0
            ? Math.Clamp((double)progress.RecordsSent / target, 0, 1)
            : durationSeconds > 0 ? Math.Clamp(elapsed.TotalSeconds / durationSeconds, 0, 1) : 0;
        _line.Draw(fraction, string.Create(CultureInfo.InvariantCulture, $"{fraction,4:P0}  sent {progress.RecordsSent:N0}  acked {acked:N0}  failed {progress.RecordsFailed:N0}  ") +
            string.Create(CultureInfo.InvariantCulture, $"{_achieved:N0}/s (target {targetRate:N0}/s)  labels {progress.LabelsAcked:N0}  {elapsed:mm\\:ss}   "));
    }

    public void Finish(PublishSummary s)
    {
        var seconds = Math.Max(0.001, s.Elapsed.TotalSeconds);
        terminal.WriteLine();
        terminal.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                         sent     acknowledged  failed
            records  {s.RecordsSent,10:N0}  {s.RecordsAcked,12:N0}  {s.RecordsFailed,6:N0}
            labels   {s.LabelsSent,10:N0}  {s.LabelsAcked,12:N0}  {s.LabelsFailed,6:N0}
            bad rows skipped {s.BadRows:N0}; {seconds:N1} s; achieved {s.RecordsAcked / seconds:N1} records/s; {(s.Succeeded ? "complete" : "INCOMPLETE")}{(s.Interrupted ? " (interrupted)" : "")}
            """));
        terminal.Flush();
    }
}
