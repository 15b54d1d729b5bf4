namespace Mesh.MetricsSink.Verdicts;

/// <summary>One experiment's verdict as of its latest look (added to <c>summary.json</c> and logged to MLflow).</summary>
/// <param name="State"><c>collecting</c>, <c>no difference yet</c> or <c>winner</c>.</param>
/// <param name="Winner">The arm whose accuracy beats every other primary arm's, once the test says so.</param>
/// <param name="PValue">Always-valid p-value of the comparison behind the state (the winner's weakest, or the closest pair's).</param>
/// <param name="Difference">Accuracy of the leader minus the runner-up.</param>
/// <param name="Looks">How many times the test has looked at the data.</param>
/// <param name="Alpha">The false-positive rate the test holds however often it is looked at.</param>
internal sealed record ExperimentVerdict(string State, string? Winner, double PValue, double Difference, long Looks, double Alpha, string Text);

/// <summary>Joined and correct predictions of one primary arm at a look.</summary>
internal readonly record struct ArmOutcomes(string Arm, long Joined, long Correct)
{
    public double Accuracy => Joined == 0 ? 0 : (double)Correct / Joined;
}

/// <summary>
/// The mixture sequential probability ratio test (mSPRT) on the difference in accuracy between arms, with
/// always-valid p-values (Johari, Pekelis and Walsh, "Always Valid Inference", 2017; the approach of
/// Optimizely's stats engine): the p-value of each pair of arms only ever goes down, and the chance that it
/// ever drops below alpha when the arms are equal is at most alpha, however often it is looked at. That is
/// what makes a live page safe to watch, unlike a fixed-sample z-test re-run at every refresh.
/// Each pair is tested at alpha divided by the number of pairs (Bonferroni), so a winner is declared only
/// when it beats every other arm. Not thread-safe: one look at a time.
/// </summary>
/// <param name="alpha">The false-positive rate.</param>
/// <param name="mixingSd">The standard deviation of the normal mixture over effect sizes: the difference in accuracy the test is tuned to find fastest.</param>
/// <param name="minJoinedPerArm">Looks before every arm has this many labelled predictions say "collecting" (the normal approximation needs them).</param>
internal sealed class SequentialAccuracyTest(double alpha, double mixingSd, long minJoinedPerArm)
{
    private readonly Dictionary<(string Experiment, string A, string B), double> _pValues = new();
    private readonly Dictionary<string, long> _looks = new(StringComparer.Ordinal);

    public ExperimentVerdict Look(string experiment, IReadOnlyList<ArmOutcomes> arms)
    {
        var looks = _looks[experiment] = _looks.GetValueOrDefault(experiment) + 1;
        var ranked = arms.OrderByDescending(a => a.Accuracy).ThenBy(a => a.Arm, StringComparer.Ordinal).ToList();
        if (ranked.Count < 2)
        {
            return new ExperimentVerdict("collecting", null, 1, 0, looks, alpha, ranked.Count == 0 ? "no primary arm yet" : $"one primary arm ({ranked[0].Arm}): nothing to compare");
        }

        var difference = Math.Round(ranked[0].Accuracy - ranked[1].Accuracy, 6);
        var fewest = ranked.Min(a => a.Joined);
        if (fewest < minJoinedPerArm)
        {
            return new ExperimentVerdict("collecting", null, 1, difference, looks, alpha, $"collecting: {fewest} of {minJoinedPerArm} labelled predictions on the smallest arm");
        }

        var pairs = ranked.Count * (ranked.Count - 1) / 2;
        var pairAlpha = alpha / pairs;
        var p = new Dictionary<(string, string), double>();
        for (var i = 0; i < ranked.Count; i++)
        {
            for (var j = i + 1; j < ranked.Count; j++)
            {
                var (a, b) = string.CompareOrdinal(ranked[i].Arm, ranked[j].Arm) < 0 ? (ranked[i], ranked[j]) : (ranked[j], ranked[i]);
                var key = (experiment, a.Arm, b.Arm);
                var value = Math.Min(_pValues.GetValueOrDefault(key, 1.0), 1 / LikelihoodRatio(a, b, mixingSd));
                _pValues[key] = value;
                p[(a.Arm, b.Arm)] = value;
                p[(b.Arm, a.Arm)] = value;
            }
        }

        var leader = ranked[0];
        var leaderP = ranked.Skip(1).Max(other => p[(leader.Arm, other.Arm)]);
        if (leaderP <= pairAlpha)
        {
            return new ExperimentVerdict("winner", leader.Arm, leaderP, difference, looks, alpha,
                $"winner {leader.Arm}: accuracy {leader.Accuracy:P1}, {difference * 100:0.0} points above {ranked[1].Arm} (always-valid p = {leaderP:0.####} <= {pairAlpha:0.####})");
        }

        return new ExperimentVerdict("no difference yet", null, leaderP, difference, looks, alpha,
            $"no difference yet: {leader.Arm} {leader.Accuracy:P1} vs {ranked[1].Arm} {ranked[1].Accuracy:P1} (always-valid p = {leaderP:0.####}, needs <= {pairAlpha:0.####})");
    }

    /// <summary>
    /// The mSPRT statistic for the difference of two proportions under the normal approximation:
    /// sqrt(V / (V + τ²)) · exp(τ² θ² / (2 V (V + τ²))), θ the observed difference, V its variance.
    /// </summary>
    internal static double LikelihoodRatio(ArmOutcomes a, ArmOutcomes b, double mixingSd)
    {
        var (pa, pb) = (a.Accuracy, b.Accuracy);
        var variance = pa * (1 - pa) / a.Joined + pb * (1 - pb) / b.Joined;
        var theta = pa - pb;
        if (variance <= 0)
        {
            // Both arms all right or all wrong: with no spread there is no evidence either way yet.
            return theta == 0 ? 1 : double.PositiveInfinity;
        }

        var tau2 = mixingSd * mixingSd;
        return Math.Sqrt(variance / (variance + tau2)) * Math.Exp(tau2 * theta * theta / (2 * variance * (variance + tau2)));
    }
}
