namespace Mesh.MetricsSink.Verdicts;

/// <summary>
/// A directional mixture sequential probability ratio test (mSPRT) on the difference in accuracy between arms,
/// with always-valid p-values (Johari, Pekelis and Walsh, "Always Valid Inference", 2017): for every ordered pair
/// (A, B) a one-sided test of "A is more accurate than B", its p-value a running minimum that only goes down, and
/// the chance that it ever drops below alpha when A is not better is at most alpha, however often it is looked at.
/// Being one-sided is what keeps a reversal honest: evidence that A beats B is never counted for B, so after the
/// lead changes hands the test cannot name, and the promoter cannot promote, the arm the evidence was against.
/// Each ordered pair is tested at alpha divided by the number of ordered pairs (Bonferroni), so a winner is
/// declared only when the evidence says it beats every other arm. Not thread-safe: one look at a time.
/// </summary>
/// <param name="alpha">The false-positive rate.</param>
/// <param name="mixingSd">The scale of the half-normal mixture over effect sizes: the difference in accuracy the test is tuned to find fastest.</param>
/// <param name="minJoinedPerArm">Looks before every arm has this many labelled predictions say "collecting" (the normal approximation needs them).</param>
internal sealed class SequentialAccuracyTest(double alpha, double mixingSd, long minJoinedPerArm)
{
    // Keyed by the ordered pair: (Better, Worse) holds the evidence that Better beats Worse, and only that.
    private readonly Dictionary<(string Experiment, string Better, string Worse), double> _pValues = new();
    private readonly Dictionary<string, long> _looks = new(StringComparer.Ordinal);

    /// <param name="outcome">The declared outcome the arms carry in <see cref="ArmOutcomes.OutcomeMean"/>; null: accuracy.</param>
    /// <param name="outcomeEffectSize">For an outcome: the mixture's scale in its units (else the constructor's).</param>
    public ExperimentVerdict Look(string experiment, IReadOnlyList<ArmOutcomes> arms, string? outcome = null, double? outcomeEffectSize = null) =>
        LookAt(experiment, arms, outcome, outcome is null ? mixingSd : outcomeEffectSize ?? mixingSd) with { Outcome = outcome };

    private ExperimentVerdict LookAt(string experiment, IReadOnlyList<ArmOutcomes> arms, string? outcome, double scale)
    {
        var looks = _looks[experiment] = _looks.GetValueOrDefault(experiment) + 1;
        var ranked = arms.OrderByDescending(a => a.Score).ThenBy(a => a.Arm, StringComparer.Ordinal).ToList();
        if (ranked.Count < 2)
        {
            return new ExperimentVerdict("collecting", null, 1, 0, looks, alpha, ranked.Count == 0 ? "no primary arm yet" : $"one primary arm ({ranked[0].Arm}): nothing to compare");
        }

        var leaderDifference = Math.Round(ranked[0].Score - ranked[1].Score, 6);
        var fewest = ranked.Min(a => a.Joined);
        if (fewest < minJoinedPerArm)
        {
            return new ExperimentVerdict("collecting", null, 1, leaderDifference, looks, alpha, $"collecting: {fewest} of {minJoinedPerArm} labelled predictions on the smallest arm");
        }

        var pairAlpha = alpha / (ranked.Count * (ranked.Count - 1));
        foreach (var better in ranked)
        {
            foreach (var worse in ranked.Where(w => w.Arm != better.Arm))
            {
                var key = (experiment, better.Arm, worse.Arm);
                _pValues[key] = Math.Min(_pValues.GetValueOrDefault(key, 1.0), OneSidedPValue(better, worse, scale));
            }
        }

        // Each arm's case is as strong as its weakest comparison; the candidate is the arm with the strongest case
        // (ties: the current leader).
        var candidate = ranked
            .Select(arm => (Arm: arm, P: ranked.Where(o => o.Arm != arm.Arm).Max(o => _pValues[(experiment, arm.Arm, o.Arm)])))
            .MinBy(c => c.P);
        var runnerUp = ranked.First(o => o.Arm != candidate.Arm.Arm);
        var difference = Math.Round(candidate.Arm.Score - runnerUp.Score, 6);
        if (candidate.P <= pairAlpha)
        {
            var now = candidate.Arm.Arm == ranked[0].Arm ? "" : $"; {ranked[0].Arm} leads now, without evidence that it is better";
            return new ExperimentVerdict("winner", candidate.Arm.Arm, candidate.P, difference, looks, alpha,
                $"winner {candidate.Arm.Arm}: {Figure(candidate.Arm, outcome)}, {Lead(difference, outcome)} against {runnerUp.Arm} (always-valid one-sided {PValue(candidate.P)}, needs <= {pairAlpha:0.####}){now}");
        }

        var leader = ranked[0];
        var leaderP = ranked.Skip(1).Max(o => _pValues[(experiment, leader.Arm, o.Arm)]);
        return new ExperimentVerdict("no difference yet", null, leaderP, leaderDifference, looks, alpha,
            $"no difference yet: {leader.Arm} {Figure(leader, outcome, named: false)} vs {ranked[1].Arm} {Figure(ranked[1], outcome, named: false)} (always-valid {PValue(leaderP)}, needs <= {pairAlpha:0.####})");
    }

    // "accuracy 95.0%" or "revenue mean 12.5"; the difference in accuracy points or in the outcome's units.
    private static string Figure(ArmOutcomes arm, string? outcome, bool named = true) => outcome is null
        ? (named ? "accuracy " : "") + arm.Accuracy.ToString("P1", System.Globalization.CultureInfo.CurrentCulture)
        : (named ? outcome + " mean " : "") + arm.Score.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

    private static string Lead(double difference, string? outcome) => outcome is null
        ? $"{difference * 100:0.0} points"
        : difference.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) + " more " + outcome;

    /// <summary>"p = 0.012", or "p < 0.001" where rounding would print a p-value of 0.</summary>
    internal static string PValue(double p) =>
        p < 0.001 ? "p < 0.001" : "p = " + p.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The two-sided mSPRT statistic for the difference of two proportions under the normal approximation:
    /// sqrt(V / (V + τ²)) · exp(τ² θ² / (2 V (V + τ²))), θ the observed difference, V its variance.
    /// </summary>
    internal static double LikelihoodRatio(ArmOutcomes a, ArmOutcomes b, double mixingSd)
    {
        var (theta, variance) = Difference(a, b);
        if (variance <= 0)
        {
            // Both arms all right or all wrong: with no spread there is no evidence either way yet.
            return theta == 0 ? 1 : double.PositiveInfinity;
        }

        return Math.Exp(LogTwoSided(theta, variance, mixingSd * mixingSd));
    }

    /// <summary>
    /// The p-value of "<paramref name="better"/> is more accurate than <paramref name="worse"/>" at this look:
    /// 1 / Λ⁺ with Λ⁺ the likelihood ratio mixed over positive differences only (a half-normal of scale τ),
    /// Λ⁺ = 2 · Λ · Φ(θ τ / sqrt(V (V + τ²))), Λ the two-sided statistic. A difference the other way makes Φ, and
    /// so the evidence, vanish.
    /// </summary>
    internal static double OneSidedPValue(ArmOutcomes better, ArmOutcomes worse, double mixingSd)
    {
        var (theta, variance) = Difference(better, worse);
        if (variance <= 0)
        {
            return theta > 0 ? 0 : 1;
        }

        var tau2 = mixingSd * mixingSd;
        var logRatio = Math.Log(2) + LogTwoSided(theta, variance, tau2) + LogNormalCdf(theta * mixingSd / Math.Sqrt(variance * (variance + tau2)));
        return Math.Min(1, Math.Exp(-logRatio));
    }

    // For an outcome, the same normal approximation with each arm's plug-in sample variance (Welch's standard error).
    private static (double Theta, double Variance) Difference(ArmOutcomes a, ArmOutcomes b) =>
        (a.Score - b.Score, (a.ObservationVariance / a.Joined) + (b.ObservationVariance / b.Joined));

    private static double LogTwoSided(double theta, double variance, double tau2) =>
        0.5 * Math.Log(variance / (variance + tau2)) + tau2 * theta * theta / (2 * variance * (variance + tau2));

    // ln Φ(x) through the complementary error function, Φ(x) = erfc(-x / √2) / 2, in logs so that the far left
    // tail (strong evidence the other way) stays finite instead of rounding to zero.
    private static double LogNormalCdf(double x) => LogErfc(-x / Math.Sqrt(2)) - Math.Log(2);

    // Chebyshev fit of erfc with relative error below 1.2e-7 everywhere (Press et al., Numerical Recipes, erfcc).
    private static double LogErfc(double z)
    {
        var t = 1 / (1 + 0.5 * Math.Abs(z));
        var poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        var logTail = Math.Log(t) + poly;
        return z >= 0 ? logTail : Math.Log(2 - Math.Exp(logTail));
    }
}
