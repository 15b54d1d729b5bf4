using System.Globalization;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// Off-policy estimators of a candidate's mean reward from decisions logged with their propensities: inverse
/// propensity scoring, self-normalised IPS and doubly robust, each with a normal-approximation interval from
/// the empirical variance (delta method for self-normalised IPS). Pure: same decisions, same answer.
/// </summary>
internal static class OffPolicyEstimator
{
    public static PolicyEvaluationResult Evaluate(IReadOnlyList<LoggedDecision> decisions, CandidatePolicy candidate, EstimatorSettings settings)
    {
        var arms = Support(decisions, candidate);
        if (decisions.Count == 0)
        {
            return PolicyEvaluationResult.Refused(candidate, 0, arms, "no logged decisions with outcomes to evaluate on.");
        }

        var unseen = arms.Where(a => a.CandidateProbability > 0 && a.Logged == 0).ToList();
        if (unseen.Count > 0)
        {
            var names = string.Join(", ", unseen.Select(a => $"'{a.Arm}' (candidate probability {a.CandidateProbability.ToString("0.###", CultureInfo.InvariantCulture)})"));
            return PolicyEvaluationResult.Refused(candidate, decisions.Count, arms,
                $"the candidate needs arm(s) {names} that the logging policy never chose in {decisions.Count:N0} logged decisions, so nothing in the logs says how they would do.");
        }

        var (rewardModel, modelName) = RewardModel(decisions, arms);
        var n = decisions.Count;
        var weights = new double[n];
        var ips = new double[n];
        var dr = new double[n];
        var direct = arms.Sum(a => a.CandidateProbability * rewardModel[a.Arm]);
        for (var i = 0; i < n; i++)
        {
            var d = decisions[i];
            weights[i] = candidate.ProbabilityOf(d.Arm) / d.Propensity;
            ips[i] = weights[i] * d.Reward;
            dr[i] = direct + (weights[i] * (d.Reward - rewardModel[d.Arm]));
        }

        var sumW = weights.Sum();
        var sumW2 = weights.Sum(w => w * w);
        var estimates = new List<PolicyEstimate>
        {
            MeanEstimate("ips", ips, settings.Z),
            SelfNormalised(decisions, weights, sumW, settings.Z),
            MeanEstimate("dr", dr, settings.Z),
        };
        var ess = sumW2 > 0 ? sumW * sumW / sumW2 : 0;
        return new PolicyEvaluationResult(candidate, n, decisions.Average(d => d.Reward), estimates, ess, modelName, arms,
            Warnings(arms, ess, n, settings), Refusal: null);
    }

    /// <summary>The mean reward each arm earned when the logging policy chose it.</summary>
    public static IReadOnlyDictionary<string, double> ArmMeans(IReadOnlyList<LoggedDecision> decisions) =>
        decisions.GroupBy(d => d.Arm, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Average(d => d.Reward), StringComparer.Ordinal);

    /// <summary>Per arm: the decisions that chose it and the sum of their rewards, what a Beta-Bernoulli bandit keeps.</summary>
    public static IReadOnlyDictionary<string, (int Decisions, double RewardSum)> ArmRewards(IReadOnlyList<LoggedDecision> decisions) =>
        decisions.GroupBy(d => d.Arm, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (g.Count(), g.Sum(d => d.Reward)), StringComparer.Ordinal);

    private static List<ArmSupport> Support(IReadOnlyList<LoggedDecision> decisions, CandidatePolicy candidate)
    {
        var logged = decisions.GroupBy(d => d.Arm, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        return logged.Keys.Union(candidate.Probabilities.Where(p => p.Value > 0).Select(p => p.Key), StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(arm => logged.TryGetValue(arm, out var ds)
                ? new ArmSupport(arm, candidate.ProbabilityOf(arm), ds.Count, ds.Min(d => d.Propensity), ds.Average(d => d.Reward))
                : new ArmSupport(arm, candidate.ProbabilityOf(arm), 0, 0, double.NaN))
            .ToList();
    }

    // The models' own expected accuracy when every logged record of an arm carries it; else the arm's mean reward. A
    // per-arm constant rather than each record's score: a record has the score of its chosen arm only, and a reward
    // model that depended on which arm was drawn would make the doubly robust estimate biased.
    private static (Dictionary<string, double> Model, string Name) RewardModel(IReadOnlyList<LoggedDecision> decisions, List<ArmSupport> arms)
    {
        var byArm = decisions.GroupBy(d => d.Arm, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var fromScores = byArm.Values.All(ds => ds.All(d => d.ModelExpectedReward is not null));
        var model = arms.ToDictionary(
            a => a.Arm,
            a => byArm.TryGetValue(a.Arm, out var ds) ? (fromScores ? ds.Average(d => d.ModelExpectedReward!.Value) : ds.Average(d => d.Reward)) : 0,
            StringComparer.Ordinal);
        return (model, fromScores ? "logged model scores" : "per-arm mean reward");
    }

    private static PolicyEstimate MeanEstimate(string name, double[] terms, double z)
    {
        var mean = terms.Average();
        var variance = terms.Length > 1 ? terms.Sum(t => (t - mean) * (t - mean)) / (terms.Length - 1) : 0;
        var se = Math.Sqrt(variance / terms.Length);
        return new PolicyEstimate(name, mean, se, mean - (z * se), mean + (z * se));
    }

    private static PolicyEstimate SelfNormalised(IReadOnlyList<LoggedDecision> decisions, double[] weights, double sumW, double z)
    {
        if (sumW <= 0)
        {
            return new PolicyEstimate("snips", double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var value = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            value += weights[i] * decisions[i].Reward;
        }

        value /= sumW;

        // Delta method for a ratio of means: Var ≈ Σ w²(r − V)² / (Σ w)².
        var spread = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            var residual = decisions[i].Reward - value;
            spread += weights[i] * weights[i] * residual * residual;
        }

        var se = Math.Sqrt(spread) / sumW;
        return new PolicyEstimate("snips", value, se, value - (z * se), value + (z * se));
    }

    private static List<string> Warnings(List<ArmSupport> arms, double ess, int n, EstimatorSettings settings)
    {
        var warnings = new List<string>();
        foreach (var arm in arms.Where(a => a.CandidateProbability > 0 && a.MinPropensity < settings.MinPropensity))
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"the candidate gives arm '{arm.Arm}' probability {arm.CandidateProbability:0.###}, but the logging policy chose it with probability as low as {arm.MinPropensity:0.####} ({arm.Logged:N0} decisions): the estimates lean on few, heavily weighted records."));
        }

        if (ess < 0.1 * n)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"effective sample size {ess:N0} is under 10 % of the {n:N0} decisions: the candidate differs a lot from the logging policy, so the intervals are wide."));
        }

        return warnings;
    }
}
