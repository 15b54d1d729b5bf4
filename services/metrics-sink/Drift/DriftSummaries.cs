using Mesh.MetricsSink.Summary;

namespace Mesh.MetricsSink.Drift;

/// <summary>Turns an arm's last window reports into its <see cref="ArmDriftSummary"/>.</summary>
internal static class DriftSummaries
{
    public static ArmDriftSummary Of(IReadOnlyCollection<(long Step, ArmDriftReport Report)> history)
    {
        var last = history.Last().Report;
        var steps = history.Select(h => h.Step).ToList();
        var features = last.Features
            .Select(f => new FeatureDriftSummary(f.Feature, f.Values, Finite(f.Psi), Finite(f.KsStatistic), Finite(f.KsPValue), Finite(f.OutOfRangeShare),
                Finite(f.MissingShare), Finite(f.Mean), f.Threshold, f.Alert,
                [.. history.Select(h => Finite(Of(h.Report, f.Feature)?.Psi ?? double.NaN))],
                [.. history.Select(h => Of(h.Report, f.Feature)?.Alert ?? false)]))
            // Worst first: alerting features, then by how far past their threshold they are; unmeasured last.
            .OrderByDescending(f => f.Alert)
            .ThenByDescending(f => f.Psi is { } psi ? psi / f.Threshold : double.NegativeInfinity)
            .ThenBy(f => f.Feature, StringComparer.Ordinal)
            .ToList();
        return new ArmDriftSummary(last.Experiment, last.Arm, last.Shadow, last.Model, last.Version, last.Reference, last.ReferenceRows, last.Records,
            Finite(last.PredictionPsi), last.PredictionAlert, steps, features);
    }

    private static FeatureDrift? Of(ArmDriftReport report, string feature) => report.Features.FirstOrDefault(g => g.Feature == feature);

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
