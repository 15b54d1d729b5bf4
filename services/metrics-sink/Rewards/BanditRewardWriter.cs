using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Options;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Rewards;

/// <summary>
/// Feeds the router's bandits: every flush, the labelled predictions (trials) and correct ones (successes,
/// reward 1) of each primary arm since the last write are added to the hash the router reads,
/// <c>{MetricsSink:BanditKeyPrefix}{experiment}</c>, fields <c>{arm}:n</c> (HINCRBY) and <c>{arm}:s</c>
/// (HINCRBYFLOAT), in one MULTI/EXEC per experiment so a router never reads trials without their successes.
/// When Redis is away the counts keep growing here and the next write carries the whole difference.
/// Shadows are left out: a bandit never chooses them.
/// </summary>
internal sealed partial class BanditRewardWriter(
    PredictionLabelJoiner joiner,
    IConnectionMultiplexer redis,
    IOptions<MetricsSinkOptions> options,
    TimeProvider time,
    ILogger<BanditRewardWriter> logger) : BackgroundService
{
    private readonly Dictionary<(string Experiment, string Arm), (long Trials, long Successes)> _written = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _failing;

    /// <summary>Writes what was joined since the last write; false when Redis refused or was away (retried next time).</summary>
    public async Task<bool> WriteAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var snapshot = joiner.Snapshot();
            var prefix = options.Value.BanditKeyPrefix;
            var database = redis.GetDatabase();
            var ok = true;
            foreach (var experiment in snapshot.Experiments)
            {
                var deltas = new List<(string Arm, long Trials, long Successes)>();
                foreach (var arm in experiment.Arms.Where(a => !a.Shadow))
                {
                    var last = _written.GetValueOrDefault((experiment.Experiment, arm.Arm));
                    if (arm.Joined > last.Trials)
                    {
                        deltas.Add((arm.Arm, arm.Joined - last.Trials, arm.Correct - last.Successes));
                    }
                }

                if (deltas.Count == 0)
                {
                    continue;
                }

                var key = (RedisKey)(prefix + experiment.Experiment);
                var transaction = database.CreateTransaction();
                foreach (var (arm, trials, successes) in deltas)
                {
                    _ = transaction.HashIncrementAsync(key, arm + ":n", trials);
                    _ = transaction.HashIncrementAsync(key, arm + ":s", (double)successes);
                }

                try
                {
                    if (!await transaction.ExecuteAsync())
                    {
                        ok = false;
                        continue;
                    }
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    ok = false;
                    if (!_failing)
                    {
                        _failing = true;
                        LogRedisFailed(e.Message);
                    }

                    continue;
                }

                foreach (var (arm, trials, successes) in deltas)
                {
                    var last = _written.GetValueOrDefault((experiment.Experiment, arm));
                    _written[(experiment.Experiment, arm)] = (last.Trials + trials, last.Successes + successes);
                }
            }

            if (ok && _failing)
            {
                _failing = false;
                LogRedisRecovered();
            }

            return ok;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Starts from what the joiner holds already: with the durable join state those are an earlier process's counts,
    /// whose rewards that process wrote (all but its last flush interval's), so they must not be added again.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var experiment in joiner.Snapshot().Experiments)
        {
            foreach (var arm in experiment.Arms.Where(a => !a.Shadow))
            {
                _written[(experiment.Experiment, arm.Arm)] = (arm.Joined, arm.Correct);
            }
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await WriteAsync(CancellationToken.None);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.FlushIntervalMs), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await WriteAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Could not write bandit rewards to Redis ({Reason}); the counts are kept and written when it answers")]
    private partial void LogRedisFailed(string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Writing bandit rewards to Redis again")]
    private partial void LogRedisRecovered();
}
