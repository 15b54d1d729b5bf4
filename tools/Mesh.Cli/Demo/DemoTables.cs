using System.Globalization;
using Spectre.Console;

namespace Mesh.Cli.Demo;

/// <summary>What `mesh demo` prints from the sink's summary: a progress line while it streams, a table per experiment at the end.</summary>
internal static class DemoTables
{
    public static void PrintProgress(DemoSummary summary, DemoExpectation expected, TimeSpan now)
    {
        var arms = summary.Experiments.Select(e => e.Experiment + ": " + string.Join(", ", e.Arms.Select(a => $"{a.Arm} {a.Predictions:N0} ({a.Accuracy:F2})")));
        var done = expected.Least(summary);
        AnsiConsole.MarkupLine(Markup.Escape(
            $"{now.TotalSeconds,4:F0}s  {100.0 * done / expected.Records,3:F0}%  predictions {done:N0}/{expected.Records:N0} per experiment  joined with labels {summary.Joined:N0} (all arms)  | {string.Join(" | ", arms)}"));
    }

    public static void PrintTable(DemoSummary? summary, int expected, TimeSpan elapsed)
    {
        if (summary is null)
        {
            AnsiConsole.MarkupLine("[red]No results: the metrics sink wrote no summary.[/]");
            return;
        }

        foreach (var experiment in summary.Experiments)
        {
            var predicted = experiment.Arms.Where(a => !a.Shadow).Sum(a => a.Predictions);
            var table = new Table().Title($"experiment {Markup.Escape(experiment.Experiment)}: {predicted:N0} of {expected:N0} records predicted, {elapsed.TotalSeconds:F0} s");
            table.AddColumns("arm", "model", "records", "labelled", "accuracy", "p50 ms", "p99 ms", "agrees");
            foreach (var column in table.Columns.Skip(2))
            {
                column.RightAligned();
            }

            foreach (var arm in experiment.Arms.OrderBy(a => a.Shadow).ThenBy(a => a.Arm, StringComparer.Ordinal))
            {
                table.AddRow(
                    Markup.Escape(arm.Arm + (arm.Shadow ? " (shadow)" : "")),
                    Markup.Escape($"{arm.Model} v{arm.Version}"),
                    arm.Predictions.ToString("N0", CultureInfo.InvariantCulture),
                    arm.Joined.ToString("N0", CultureInfo.InvariantCulture),
                    arm.Accuracy.ToString("F3", CultureInfo.InvariantCulture),
                    arm.LatencyP50Ms.ToString("F1", CultureInfo.InvariantCulture),
                    arm.LatencyP99Ms.ToString("F1", CultureInfo.InvariantCulture),
                    arm.ShadowAgreement is { } agreement ? agreement.ToString("P1", CultureInfo.InvariantCulture) : "");
            }

            AnsiConsole.Write(table);
        }

        AnsiConsole.MarkupLine("[grey]records: predictions made by the arm; labelled: joined with their label; accuracy: on held-out rows, the second half drifted; p50/p99: end-to-end latency, event time to prediction produced; agrees: a shadow's share of answers equal to the primary's.[/]");
        AnsiConsole.MarkupLine($"predictions {summary.Predictions:N0}, labels {summary.Labels:N0}, joined {summary.Joined:N0}, duplicate predictions {summary.DuplicatePredictions:N0}, labels without prediction {summary.UnmatchedLabels:N0}");
    }
}
