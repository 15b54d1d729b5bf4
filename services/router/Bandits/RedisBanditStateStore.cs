using System.Globalization;
using StackExchange.Redis;

namespace Mesh.Router.Bandits;

/// <summary>
/// Bandit state in one Redis hash per experiment, <c>{prefix}{experiment}</c>, with fields <c>{arm}:n</c>
/// (rewards observed), <c>{arm}:s</c> (their sum) and <c>{arm}:pulls</c>. Plain hash increments, so any
/// process (the metrics sink included) can add a reward with HINCRBY/HINCRBYFLOAT and every router sees it at
/// its next refresh.
/// </summary>
internal sealed class RedisBanditStateStore(IConnectionMultiplexer redis, string keyPrefix) : IBanditStateStore
{
    public static RedisKey KeyOf(string keyPrefix, string experiment) => keyPrefix + experiment;

    public async Task<BanditArmState[]> ReadAsync(string experiment, IReadOnlyList<string> arms, CancellationToken cancellationToken)
    {
        var fields = new RedisValue[arms.Count * 3];
        for (var i = 0; i < arms.Count; i++)
        {
            fields[i * 3] = arms[i] + ":n";
            fields[(i * 3) + 1] = arms[i] + ":s";
            fields[(i * 3) + 2] = arms[i] + ":pulls";
        }

        var values = await redis.GetDatabase().HashGetAsync(KeyOf(keyPrefix, experiment), fields).ConfigureAwait(false);
        var states = new BanditArmState[arms.Count];
        for (var i = 0; i < arms.Count; i++)
        {
            states[i] = new BanditArmState(ToLong(values[i * 3]), ToDouble(values[(i * 3) + 1]), ToLong(values[(i * 3) + 2]));
        }

        return states;
    }

    public async Task AddRewardAsync(string experiment, string arm, double reward, CancellationToken cancellationToken)
    {
        // One MULTI/EXEC, so a reader never sees the observation counted without its reward.
        var transaction = redis.GetDatabase().CreateTransaction();
        var key = KeyOf(keyPrefix, experiment);
        _ = transaction.HashIncrementAsync(key, arm + ":n", 1);
        _ = transaction.HashIncrementAsync(key, arm + ":s", reward);
        if (!await transaction.ExecuteAsync().ConfigureAwait(false))
        {
            throw new InvalidOperationException($"Redis did not execute the reward transaction for {experiment}/{arm}.");
        }
    }

    public async Task AddPullsAsync(string experiment, IReadOnlyList<string> arms, long[] pulls, CancellationToken cancellationToken)
    {
        var batch = redis.GetDatabase().CreateBatch();
        var key = KeyOf(keyPrefix, experiment);
        var tasks = new List<Task>();
        for (var i = 0; i < arms.Count; i++)
        {
            if (pulls[i] != 0)
            {
                tasks.Add(batch.HashIncrementAsync(key, arms[i] + ":pulls", pulls[i]));
            }
        }

        batch.Execute();
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private static long ToLong(RedisValue value) => value.IsNull ? 0 : (long)value;

    private static double ToDouble(RedisValue value) =>
        value.IsNull ? 0 : double.Parse(value.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture);
}
