using System.Globalization;
using Spectre.Console;

namespace Mesh.Cli.Demo;

/// <summary>
/// The bandit experiment's traffic over time: each arm's share of the records in each quarter of the stream, from the
/// cumulative counts of the summaries the demo polls. The experiment's name is the one the AppHost writes.
/// </summary>
internal sealed class BanditShares
{
    public const string Experiment = "iris-bandit";
    private const int Parts = 4;

    private readonly List<(long Total, Dictionary<string, long> Arms)> _snapshots = [];

    public void Clear() => _snapshots.Clear();

    public void Observe(DemoSummary summary)
    {
        if (summary.Experiments.FirstOrDefault(e => e.Experiment == Experiment) is not { } bandit)
        {
            return;
        }

        var arms = bandit.Arms.Where(a => !a.Shadow).ToDictionary(a => a.Arm, a => a.Predictions, StringComparer.Ordinal);
        var total = arms.Values.Sum();
        if (total > 0 && (_snapshots.Count == 0 || total > _snapshots[^1].Total))
        {
            _snapshots.Add((total, arms));
        }
    }

    public void Print()
    {
        if (_snapshots.Count == 0)
        {
            return;
        }

        var arms = _snapshots[^1].Arms.Keys.Order(StringComparer.Ordinal).ToList();
        var table = new Table().Title($"experiment {Experiment}: traffic share by quarter");
        table.AddColumn("records");
        foreach (var arm in arms)
        {
            table.AddColumn(new TableColumn(Markup.Escape(arm)).RightAligned());
        }

        var last = _snapshots[^1].Total;
        var from = (Total: 0L, Arms: new Dictionary<string, long>(StringComparer.Ordinal));
        for (var part = 1; part <= Parts; part++)
        {
            // The first poll at or past this quarter's end: polls are half a second apart, so a part's edges are approximate.
            var to = _snapshots.First(s => s.Total >= last * part / Parts);
            var records = to.Total - from.Total;
            if (records <= 0)
            {
                continue;
            }

            var row = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{from.Total + 1:N0}–{to.Total:N0}") };
            row.AddRange(arms.Select(arm => ((double)(to.Arms.GetValueOrDefault(arm) - from.Arms.GetValueOrDefault(arm)) / records).ToString("P0", CultureInfo.InvariantCulture)));
            table.AddRow([.. row]);
            from = to;
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]Thompson sampling: each arm's share of the bandit's records in each quarter of the stream, as the sink's rewards (a correct answer is 1) reach the router through Redis.[/]");
    }
}
