namespace Mesh.Cli.Tests;

/// <summary>
/// Logged traffic whose truth is known: each arm is right with a fixed probability, the logging policy's weights
/// change half-way (as when a team moves traffic mid-experiment), and each decision records the probability it was
/// made with. A candidate's true value is then Σ π(a)·p(a).
/// </summary>
internal static class LoggedTrafficSimulation
{
    public static readonly IReadOnlyDictionary<string, double> Accuracy = new Dictionary<string, double>
    {
        ["logreg"] = 0.90,
        ["boosted"] = 0.80,
        ["mlp"] = 0.60,
    };

    private static readonly (string Arm, double Weight)[] s_firstHalf = [("logreg", 0.5), ("boosted", 0.3), ("mlp", 0.2)];
    private static readonly (string Arm, double Weight)[] s_secondHalf = [("logreg", 0.7), ("boosted", 0.2), ("mlp", 0.1)];

    public static double TrueValue(CandidatePolicy candidate) => candidate.Probabilities.Sum(p => p.Value * Accuracy[p.Key]);

    /// <param name="withScores">Whether each decision carries its model's (slightly miscalibrated, noisy) expected accuracy.</param>
    public static List<LoggedDecision> Generate(int seed, int count, bool withScores)
    {
        var random = new Random(seed);
        var decisions = new List<LoggedDecision>(count);
        for (var i = 0; i < count; i++)
        {
            var policy = i < count / 2 ? s_firstHalf : s_secondHalf;
            var (arm, propensity) = Draw(policy, random.NextDouble());
            var reward = random.NextDouble() < Accuracy[arm] ? 1.0 : 0.0;
            double? expected = withScores ? Math.Clamp(Accuracy[arm] - 0.05 + ((random.NextDouble() - 0.5) * 0.2), 0, 1) : null;
            decisions.Add(new LoggedDecision($"r{i}", arm, propensity, reward, expected));
        }

        return decisions;
    }

    private static (string Arm, double Propensity) Draw((string Arm, double Weight)[] policy, double u)
    {
        foreach (var (arm, weight) in policy)
        {
            if (u < weight)
            {
                return (arm, weight);
            }

            u -= weight;
        }

        return (policy[^1].Arm, policy[^1].Weight);
    }
}
