using System.Globalization;
using Mesh.Sampling;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// A policy to judge on logged traffic, as the probability it gives each arm. Mesh policies do not look at the
/// features (sticky A/B assignment hashes the entity, which is independent of the outcome), so a context-free
/// distribution is the policy as off-policy evaluation sees it.
/// </summary>
internal sealed record CandidatePolicy(string Description, IReadOnlyDictionary<string, double> Probabilities)
{
    public double ProbabilityOf(string arm) => Probabilities.TryGetValue(arm, out var p) ? p : 0;

    public static CandidatePolicy Always(string arm) =>
        string.IsNullOrWhiteSpace(arm)
            ? throw new FormatException("--always needs an arm name.")
            : new CandidatePolicy($"always {arm}", new Dictionary<string, double>(StringComparer.Ordinal) { [arm] = 1 });

    /// <summary>A/B weights, <c>logreg=80,boosted=20</c>: any positive scale, normalised to probabilities.</summary>
    public static CandidatePolicy Weights(string text)
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0
                || !double.TryParse(part[(equals + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight)
                || !double.IsFinite(weight) || weight < 0
                || !weights.TryAdd(part[..equals].Trim(), weight))
            {
                throw new FormatException($"--weights '{text}': expected distinct arm=weight pairs with non-negative weights, e.g. logreg=80,boosted=20.");
            }
        }

        var total = weights.Values.Sum();
        if (total <= 0)
        {
            throw new FormatException($"--weights '{text}': the weights must not all be zero.");
        }

        return new CandidatePolicy($"weights {text}", weights.ToDictionary(w => w.Key, w => w.Value / total, StringComparer.Ordinal));
    }

    /// <summary>
    /// An epsilon-greedy bandit as it would act next: the arm with the best observed mean reward with probability
    /// 1 - epsilon + epsilon/K, every other arm epsilon/K.
    /// </summary>
    public static CandidatePolicy EpsilonGreedy(double epsilon, IReadOnlyDictionary<string, double> armMeans)
    {
        if (!(epsilon >= 0 && epsilon <= 1))
        {
            throw new FormatException($"--epsilon-greedy {epsilon.ToString(CultureInfo.InvariantCulture)}: epsilon must be between 0 and 1.");
        }

        if (armMeans.Count == 0)
        {
            // Nothing logged: there is no greedy arm, and evaluation refuses for want of decisions.
            return new CandidatePolicy($"epsilon-greedy {epsilon.ToString(CultureInfo.InvariantCulture)}", new Dictionary<string, double>());
        }

        var best = armMeans.OrderByDescending(a => a.Value).ThenBy(a => a.Key, StringComparer.Ordinal).First().Key;
        var explore = epsilon / armMeans.Count;
        return new CandidatePolicy(
            $"epsilon-greedy {epsilon.ToString(CultureInfo.InvariantCulture)} (greedy arm {best})",
            armMeans.Keys.ToDictionary(a => a, a => a == best ? 1 - epsilon + explore : explore, StringComparer.Ordinal));
    }

    /// <summary>
    /// A Thompson-sampling bandit (Beta-Bernoulli from a uniform prior, as the router's) as it would act next: each
    /// arm's probability of drawing the highest sample given the logged rewards, estimated with a fixed seed.
    /// </summary>
    /// <param name="armRewards">Per arm: the decisions and the sum of their rewards, each in [0, 1].</param>
    public static CandidatePolicy Thompson(IReadOnlyDictionary<string, (int Decisions, double RewardSum)> armRewards, int draws = 20_000, int seed = 12345)
    {
        var arms = armRewards.Keys.Order(StringComparer.Ordinal).ToArray();
        var wins = new int[arms.Length];
        var random = new Random(seed);
        for (var draw = 0; draw < draws && arms.Length > 0; draw++)
        {
            var best = 0;
            var bestSample = double.NegativeInfinity;
            for (var i = 0; i < arms.Length; i++)
            {
                var (n, sum) = armRewards[arms[i]];
                var successes = Math.Clamp(sum, 0, n);
                var sample = BetaSampler.Sample(random, 1 + successes, 1 + n - successes);
                if (sample > bestSample)
                {
                    bestSample = sample;
                    best = i;
                }
            }

            wins[best]++;
        }

        return new CandidatePolicy("thompson", arms.Select((a, i) => (a, i)).ToDictionary(x => x.a, x => (double)wins[x.i] / draws, StringComparer.Ordinal));
    }
}
