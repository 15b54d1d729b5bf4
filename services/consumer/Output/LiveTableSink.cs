using System.Globalization;
using System.Text;
using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>
/// A live table in the terminal: per experiment and arm, the predictions seen, their share, the mean end-to-end
/// latency and the latest model, redrawn in place at most once a second. Nothing to keep, so every flush is final.
/// </summary>
internal sealed class LiveTableSink(TextWriter terminal, TimeProvider time) : IPredictionSink
{
    private static readonly TimeSpan s_redraw = TimeSpan.FromSeconds(1);

    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), Row> _rows = [];
    private readonly StringBuilder _screen = new();
    private long _lastDraw;
    private long _total;

    public string Description => "a live table on the terminal";

    public void Write(Prediction prediction, ArraySegment<byte> raw)
    {
        var key = (prediction.Experiment, prediction.Arm, prediction.Shadow);
        if (!_rows.TryGetValue(key, out var row))
        {
            row = new Row();
            _rows[key] = row;
        }

        row.Count++;
        row.LatencySum += prediction.Latency?.EndToEndMs ?? 0;
        row.Model = prediction.ModelName + (prediction.ModelVersion.Length > 0 ? " v" + prediction.ModelVersion : "");
        _total++;
    }

    public bool Flush(bool force)
    {
        if (force || _lastDraw == 0 || time.GetElapsedTime(_lastDraw) >= s_redraw)
        {
            terminal.Write(Render());
            terminal.Flush();
            _lastDraw = time.GetTimestamp();
        }

        return true;
    }

    /// <summary>The screen: cursor home, clear, then the table.</summary>
    public string Render()
    {
        var b = _screen.Clear();
        b.Append("\u001b[H\u001b[2J");
        b.Append(CultureInfo.InvariantCulture, $"mesh consumer · {_total:N0} predictions · {time.GetLocalNow():HH:mm:ss}\n\n");
        b.Append(CultureInfo.InvariantCulture, $"{"experiment",-16} {"arm",-14} {"kind",-7} {"model",-22} {"predictions",12} {"share",7} {"mean e2e ms",12}\n");
        foreach (var group in _rows.GroupBy(r => r.Key.Experiment).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var primary = group.Where(r => !r.Key.Shadow).Sum(r => r.Value.Count);
            foreach (var (key, row) in group.OrderBy(r => r.Key.Shadow).ThenBy(r => r.Key.Arm, StringComparer.Ordinal))
            {
                var share = key.Shadow || primary == 0 ? "copy" : ((double)row.Count / primary).ToString("P1", CultureInfo.InvariantCulture);
                b.Append(CultureInfo.InvariantCulture,
                    $"{Cut(key.Experiment, 16),-16} {Cut(key.Arm, 14),-14} {(key.Shadow ? "shadow" : "primary"),-7} {Cut(row.Model, 22),-22} {row.Count,12:N0} {share,7} {row.LatencySum / row.Count,12:F2}\n");
            }
        }

        return b.ToString();
    }

    public void Dispose()
    {
    }

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private sealed class Row
    {
        public long Count { get; set; }

        public double LatencySum { get; set; }

        public string Model { get; set; } = "";
    }
}
