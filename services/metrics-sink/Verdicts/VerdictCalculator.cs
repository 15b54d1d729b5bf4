namespace Mesh.MetricsSink.Verdicts;

/// <summary>
/// Shows the metrics sink's sequential verdict (mSPRT, always valid however often the page refreshes). Only
/// when a summary carries none does it fall back to comparing the two best primary arms with a fixed-sample
/// two-proportion z-test, and says so. Shadows are left out: they answer nobody, so they cannot win the
/// experiment (the page shows them beside it).
/// </summary>
internal static class VerdictCalculator
{
    /// <summary>Below this many labelled predictions per arm the verdict says it is still collecting.</summary>
    public const int MinJoinedPerArm = 100;

    private const double Z95 = 1.96;

    public static Verdict For(string experiment, IReadOnlyList<ArmOutcomes> outcomes, ExperimentVerdict? verdict)
    {
        if (verdict is { } sequential)
        {
            var state = sequential.State switch
            {
                "winner" => "significant",
                "collecting" => "collecting",
                _ => "inconclusive",
            };
            return new Verdict(experiment, state, sequential.Winner, Math.Round(sequential.Difference * 100, 1), 0, sequential.Text);
        }

        var arms = outcomes.Where(a => !a.Shadow).OrderByDescending(a => a.Accuracy).ThenBy(a => a.Arm, StringComparer.Ordinal).ToList();
        if (arms.Count < 2)
        {
            return new Verdict(experiment, "single", arms.Count == 0 ? null : arms[0].Arm, 0, 0,
                arms.Count == 0 ? "no primary arm yet" : $"one arm ({arms[0].Arm}): nothing to compare");
        }

        var (best, second) = (arms[0], arms[1]);
        if (best.Joined < MinJoinedPerArm || second.Joined < MinJoinedPerArm)
        {
            return new Verdict(experiment, "collecting", null, 0, 0,
                $"collecting: {Math.Min(best.Joined, second.Joined)} of {MinJoinedPerArm} labelled predictions per arm");
        }

        var pooled = (double)(best.Correct + second.Correct) / (best.Joined + second.Joined);
        var error = Math.Sqrt(pooled * (1 - pooled) * (1.0 / best.Joined + 1.0 / second.Joined));
        var difference = best.Accuracy - second.Accuracy;
        // Both perfect (or both zero): no variance, and no difference either.
        var z = error == 0 ? 0 : difference / error;
        var points = Math.Round(difference * 100, 1);
        if (z >= Z95)
        {
            return new Verdict(experiment, "significant", best.Arm, points, Math.Round(z, 2),
                $"{best.Arm} leads {second.Arm} by {points:0.0} accuracy points (fixed-sample z = {z:0.00}, significant at 95% for one look)");
        }

        return new Verdict(experiment, "inconclusive", best.Arm, points, Math.Round(z, 2),
            $"no significant difference yet: {best.Arm} {best.Accuracy:P1} vs {second.Arm} {second.Accuracy:P1} (z = {z:0.00})");
    }
}
