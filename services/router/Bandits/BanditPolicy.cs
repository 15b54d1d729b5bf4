using System.Globalization;
using System.Text;
using Mesh.Router.Hashing;
using Mesh.Sampling;

namespace Mesh.Router.Bandits;

/// <summary>
/// Epsilon-greedy or Thompson sampling (Beta-Bernoulli: rewards in [0, 1]) over an experiment's arms. Choices are
/// made from a local snapshot of the shared state, refreshed every <c>Router:Bandit:RefreshMs</c>, so no record
/// waits for Redis; pulls are counted locally and added to the store at each refresh.
/// </summary>
internal sealed class BanditPolicy
{
    /// <summary>The algorithm names an experiment spec's <c>bandit.algorithm</c> field takes.</summary>
    public const string Thompson = "thompson";
    public const string EpsilonGreedy = "epsilon-greedy";

    private const int ProbabilityDraws = 2000;

    private readonly string _experiment;
    private readonly string[] _arms;
    private readonly bool _thompson;
    private readonly double _epsilon;
    private readonly IBanditStateStore _store;
    private readonly long[] _pendingPulls;
    private volatile Snapshot _snapshot;

    public BanditPolicy(string experiment, IReadOnlyList<string> arms, string algorithm, double epsilon, IBanditStateStore store)
    {
        _experiment = experiment;
        _arms = [.. arms];
        _thompson = algorithm == Thompson;
        _epsilon = epsilon;
        _store = store;
        _pendingPulls = new long[_arms.Length];
        _snapshot = BuildSnapshot(new BanditArmState[_arms.Length]);
        Algorithm = algorithm;
    }

    public string Algorithm { get; }

    public IReadOnlyList<string> Arms => _arms;

    public string PolicyVersion => _snapshot.Version;

    public IReadOnlyList<BanditArmState> States => _snapshot.States;

    /// <summary>The probability that the current policy picks <paramref name="arm"/> (exact for epsilon-greedy, estimated by sampling for Thompson).</summary>
    public double ProbabilityOf(int arm) => _snapshot.Probabilities[arm];

    /// <summary>Picks an arm for one record. <paramref name="random"/> belongs to the caller's thread.</summary>
    public int Choose(Random random, out double probability, out string policyVersion)
    {
        var snapshot = _snapshot;
        var arm = _thompson ? SampleThompson(random, snapshot.States) : SampleEpsilonGreedy(random, snapshot);
        Interlocked.Increment(ref _pendingPulls[arm]);
        probability = snapshot.Probabilities[arm];
        policyVersion = snapshot.Version;
        return arm;
    }

    /// <summary>Adds the pulls counted since the last refresh to the store and reads the shared state again.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var pulls = new long[_arms.Length];
        for (var i = 0; i < pulls.Length; i++)
        {
            pulls[i] = Interlocked.Exchange(ref _pendingPulls[i], 0);
        }

        if (pulls.Any(p => p != 0))
        {
            try
            {
                await _store.AddPullsAsync(_experiment, _arms, pulls, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Kept for the next refresh rather than lost.
                for (var i = 0; i < pulls.Length; i++)
                {
                    Interlocked.Add(ref _pendingPulls[i], pulls[i]);
                }

                throw;
            }
        }

        var states = await _store.ReadAsync(_experiment, _arms, cancellationToken).ConfigureAwait(false);
        _snapshot = BuildSnapshot(states);
    }

    public Task AddRewardAsync(int arm, double reward, CancellationToken cancellationToken) =>
        _store.AddRewardAsync(_experiment, _arms[arm], reward, cancellationToken);

    private static int SampleThompson(Random random, BanditArmState[] states)
    {
        var best = 0;
        var bestDraw = double.NegativeInfinity;
        for (var i = 0; i < states.Length; i++)
        {
            var state = states[i];
            var successes = Math.Clamp(state.RewardSum, 0, state.Observations);
            var draw = BetaSampler.Sample(random, 1 + successes, 1 + state.Observations - successes);
            if (draw > bestDraw)
            {
                bestDraw = draw;
                best = i;
            }
        }

        return best;
    }

    private int SampleEpsilonGreedy(Random random, Snapshot snapshot) =>
        random.NextDouble() < _epsilon ? random.Next(snapshot.States.Length) : snapshot.Greedy;

    private Snapshot BuildSnapshot(BanditArmState[] states)
    {
        var greedy = 0;
        for (var i = 1; i < states.Length; i++)
        {
            if (Estimate(states[i]) > Estimate(states[greedy]))
            {
                greedy = i;
            }
        }

        var probabilities = new double[states.Length];
        if (_thompson)
        {
            // Snapshots are built on the refresh, reward and reload paths at once, so no Random is shared between
            // them (Random is not thread-safe); a fixed seed also gives one state one estimate, every time.
            var estimator = new Random(12345);
            for (var draw = 0; draw < ProbabilityDraws; draw++)
            {
                probabilities[SampleThompson(estimator, states)] += 1.0 / ProbabilityDraws;
            }
        }
        else
        {
            for (var i = 0; i < states.Length; i++)
            {
                probabilities[i] = (_epsilon / states.Length) + (i == greedy ? 1 - _epsilon : 0);
            }
        }

        // The version names the state the choice was made from, so a replay can reconstruct the policy.
        var text = new StringBuilder(_experiment).Append('/').Append(Algorithm).Append('/').Append(_epsilon.ToString("R", CultureInfo.InvariantCulture));
        foreach (var state in states)
        {
            text.Append(';').Append(state.Observations).Append(':').Append(state.RewardSum.ToString("R", CultureInfo.InvariantCulture));
        }

        var version = "bandit-" + StableHash.AppendUtf8(StableHash.Seed, text.ToString()).ToString("x8", CultureInfo.InvariantCulture);
        return new Snapshot(states, probabilities, greedy, version);
    }

    // An arm never rewarded yet is tried before arms that were: optimism in the face of uncertainty.
    private static double Estimate(BanditArmState state) => state.Observations == 0 ? double.PositiveInfinity : state.Mean;

    private sealed record Snapshot(BanditArmState[] States, double[] Probabilities, int Greedy, string Version);
}
