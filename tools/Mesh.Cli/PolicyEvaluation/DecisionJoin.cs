namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// Joins logged Predictions with Labels by request id into decisions. Shadows (never served) and fallbacks (served
/// by another arm than the one drawn, so their propensity does not describe them) are left out; so are repeats of a
/// request id, which at-least-once delivery can write.
/// </summary>
internal static class DecisionJoin
{
    public static (IReadOnlyList<LoggedDecision> Decisions, JoinCounts Counts) Join(
        IReadOnlyList<LoggedPrediction> predictions, IReadOnlyList<Mesh.Contracts.V1.Label> labels, string experiment, RewardKind reward)
    {
        var outcomes = new Dictionary<string, Mesh.Contracts.V1.Label>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            outcomes.TryAdd(label.RequestId, label);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var decisions = new List<LoggedDecision>();
        int shadow = 0, fallback = 0, other = 0, bad = 0, duplicates = 0, unlabelled = 0;
        foreach (var p in predictions)
        {
            if (p.Shadow)
            {
                shadow++;
            }
            else if (p.Experiment != experiment)
            {
                other++;
            }
            else if (p.Fallback)
            {
                fallback++;
            }
            else if (!(p.Propensity > 0 && p.Propensity <= 1))
            {
                bad++;
            }
            else if (!seen.Add(p.RequestId))
            {
                duplicates++;
            }
            else if (!outcomes.TryGetValue(p.RequestId, out var label))
            {
                unlabelled++;
            }
            else
            {
                decisions.Add(reward == RewardKind.Correct
                    ? new LoggedDecision(p.RequestId, p.Arm, p.Propensity, p.Label == label.Value ? 1 : 0, ExpectedAccuracy(p.Scores))
                    : new LoggedDecision(p.RequestId, p.Arm, p.Propensity, label.NumericValue));
            }
        }

        return (decisions, new JoinCounts(predictions.Count, shadow, fallback, other, bad, duplicates, unlabelled, decisions.Count));
    }

    /// <summary>The experiments the non-shadow predictions belong to, most records first.</summary>
    public static IReadOnlyList<string> Experiments(IReadOnlyList<LoggedPrediction> predictions) =>
        [.. predictions.Where(p => !p.Shadow).GroupBy(p => p.Experiment, StringComparer.Ordinal).OrderByDescending(g => g.Count()).Select(g => g.Key)];

    // A model's probability for the class it predicted is its own estimate of being right; only class
    // probabilities (in [0, 1], summing to 1) qualify, not raw margins.
    private static double? ExpectedAccuracy(IReadOnlyList<float> scores)
    {
        if (scores.Count == 0 || scores.Any(s => !(s >= 0 && s <= 1)) || Math.Abs(scores.Sum() - 1) > 0.01)
        {
            return null;
        }

        return scores.Max();
    }
}
