using System.Globalization;
using Spectre.Console;

namespace Mesh.Cli.Demo;

/// <summary>The closing drift table: per arm, the features the sink flagged in any window and in how many (docs/drift.md).</summary>
internal static class DemoDrift
{
    public static void Print(DemoSummary? summary)
    {
        if (summary is null || summary.Drift.Count == 0)
        {
            return;
        }

        var table = new Table().Title("drift, no labels needed: features whose distribution left the arm's reference");
        table.AddColumns("experiment", "arm", "reference", "flagged features (windows flagged of measured)", "highest PSI (feature)");
        foreach (var arm in summary.Drift.OrderBy(a => a.Experiment, StringComparer.Ordinal).ThenBy(a => a.Shadow).ThenBy(a => a.Arm, StringComparer.Ordinal))
        {
            var flagged = arm.Features
                .Where(f => f.AlertHistory.Any(alert => alert))
                .Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Feature} ({f.AlertHistory.Count(alert => alert)} of {f.AlertHistory.Count})"))
                .ToList();
            // No window measured yet (a run shorter than a window, or too few values): no figure.
            var measured = arm.Features.Select(f => (f.Feature, Psi: f.History.Max())).Where(f => f.Psi is not null).ToList();
            var worst = measured.Count == 0 ? default : measured.MaxBy(f => f.Psi);
            table.AddRow(
                Markup.Escape(arm.Experiment),
                Markup.Escape(arm.Arm + (arm.Shadow ? " (shadow)" : "")),
                Markup.Escape(arm.Reference),
                flagged.Count == 0 ? "none" : Markup.Escape(string.Join(", ", flagged)),
                worst.Psi is not { } psi ? "" : Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{psi:F2} ({worst.Feature})")));
        }

        AnsiConsole.Write(table);
    }
}
