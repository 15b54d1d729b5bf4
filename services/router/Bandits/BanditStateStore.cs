namespace Mesh.Router.Bandits;

/// <summary>What a bandit knows of one arm: rewards observed, their sum, and how often the arm was chosen.</summary>
internal readonly record struct BanditArmState(long Observations, double RewardSum, long Pulls)
{
    public double Mean => Observations == 0 ? 0 : RewardSum / Observations;
}

/// <summary>
/// Where bandit state lives: in memory for one router, or in Redis so every router replica learns from every
/// reward. Rewards come from whoever joins predictions with outcomes (the metrics sink, or the admin API).
/// </summary>
internal interface IBanditStateStore
{
    public Task<BanditArmState[]> ReadAsync(string experiment, IReadOnlyList<string> arms, CancellationToken cancellationToken);

    public Task AddRewardAsync(string experiment, string arm, double reward, CancellationToken cancellationToken);

    /// <summary>Adds pull counts (batched by the caller: one call per refresh, not per record).</summary>
    public Task AddPullsAsync(string experiment, IReadOnlyList<string> arms, long[] pulls, CancellationToken cancellationToken);
}

internal sealed class InMemoryBanditStateStore : IBanditStateStore
{
    private readonly Dictionary<(string Experiment, string Arm), BanditArmState> _states = new();
    private readonly Lock _gate = new();

    public Task<BanditArmState[]> ReadAsync(string experiment, IReadOnlyList<string> arms, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(arms.Select(arm => _states.GetValueOrDefault((experiment, arm))).ToArray());
        }
    }

    public Task AddRewardAsync(string experiment, string arm, double reward, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var state = _states.GetValueOrDefault((experiment, arm));
            _states[(experiment, arm)] = state with { Observations = state.Observations + 1, RewardSum = state.RewardSum + reward };
        }

        return Task.CompletedTask;
    }

    public Task AddPullsAsync(string experiment, IReadOnlyList<string> arms, long[] pulls, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            for (var i = 0; i < arms.Count; i++)
            {
                if (pulls[i] != 0)
                {
                    var state = _states.GetValueOrDefault((experiment, arms[i]));
                    _states[(experiment, arms[i])] = state with { Pulls = state.Pulls + pulls[i] };
                }
            }
        }

        return Task.CompletedTask;
    }
}
