using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Outcomes;
using Mesh.MetricsSink.Summary;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Rewards;

/// <summary>
/// Feeds the router's bandits: every flush, the labelled predictions (trials) and correct ones (successes,
/// reward 1) of each primary arm since the last write are added to the hash the router reads,
/// <c>{MetricsSink:BanditKeyPrefix}{experiment}</c>, fields <c>{arm}:n</c> (HINCRBY) and <c>{arm}:s</c>
/// (HINCRBYFLOAT), in one script per experiment so a router never reads trials without their successes.
/// When Redis is away the counts keep growing here and the next write carries the whole difference.
/// Shadows are left out: a bandit never chooses them.
/// <para>
/// An experiment that declares a <c>reward:</c> outcome (docs/outcomes.md) is rewarded by it instead: a trial is a
/// joined label that carries the outcome (one that lacks it is no trial, not a reward of zero), its reward
/// <see cref="OutcomeDeclaration.Reward"/>, in [0, 1] as the router's Beta-Bernoulli Thompson sampling needs.
/// </para>
/// <para>
/// A write whose answer is lost (a timeout after Redis ran it) must not be added twice. Each write has an id, kept
/// in the same hash as a field <c>write:{id}</c> by the script that adds the counts, which adds nothing when the
/// field is there already. A write that failed is sent again, with the same id and counts, before anything newer;
/// the field of a write is removed by the next one, once its outcome is known.
/// </para>
/// </summary>
internal sealed partial class BanditRewardWriter(
    PredictionLabelJoiner joiner,
    IConnectionMultiplexer redis,
    IOptions<MetricsSinkOptions> options,
    TimeProvider time,
    ILogger<BanditRewardWriter> logger,
    OutcomeCatalog? outcomes = null) : BackgroundService
{
    /// <summary>The prefix of the hash field that marks a write as applied.</summary>
    public const string WriteMarkerPrefix = "write:";

    // KEYS[1] the experiment's hash; ARGV[1] this write's marker, ARGV[2] the last applied write's marker (or ""),
    // then triples of arm, trials, successes.
    private const string AddOnceScript = """
        local fresh = redis.call('HSETNX', KEYS[1], ARGV[1], '1')
        if ARGV[2] ~= '' then redis.call('HDEL', KEYS[1], ARGV[2]) end
        if fresh == 1 then
          for i = 3, #ARGV, 3 do
            redis.call('HINCRBY', KEYS[1], ARGV[i] .. ':n', ARGV[i + 1])
            redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i] .. ':s', ARGV[i + 2])
          end
        end
        return fresh
        """;

    private readonly Dictionary<(string Experiment, string Arm), (long Trials, double Successes)> _written = new();
    private readonly Dictionary<string, PendingWrite> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastApplied = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _failing;

    /// <summary>Writes what was joined since the last write; false when Redis refused or was away (retried next time).</summary>
    public async Task<bool> WriteAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var snapshot = joiner.Snapshot();
            var ok = true;
            foreach (var experiment in snapshot.Experiments)
            {
                // An earlier write of this experiment whose outcome is unknown goes first, unchanged.
                if (_pending.TryGetValue(experiment.Experiment, out var pending) && !await TryApplyAsync(experiment.Experiment, pending))
                {
                    ok = false;
                    continue;
                }

                var deltas = new List<(string Arm, long Trials, double Successes)>();
                foreach (var arm in experiment.Arms.Where(a => !a.Shadow))
                {
                    var last = _written.GetValueOrDefault((experiment.Experiment, arm.Arm));
                    var (trials, successes) = Rewards(experiment.Experiment, arm);
                    if (trials > last.Trials)
                    {
                        deltas.Add((arm.Arm, trials - last.Trials, successes - last.Successes));
                    }
                }

                if (deltas.Count > 0 && !await TryApplyAsync(experiment.Experiment, new PendingWrite(WriteMarkerPrefix + Guid.NewGuid().ToString("N"), deltas)))
                {
                    ok = false;
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

    private async Task<bool> TryApplyAsync(string experiment, PendingWrite write)
    {
        _pending[experiment] = write;
        var arguments = new RedisValue[2 + (write.Deltas.Count * 3)];
        arguments[0] = write.Marker;
        arguments[1] = _lastApplied.GetValueOrDefault(experiment, "");
        for (var i = 0; i < write.Deltas.Count; i++)
        {
            var (arm, trials, successes) = write.Deltas[i];
            arguments[2 + (i * 3)] = arm;
            arguments[3 + (i * 3)] = trials;
            arguments[4 + (i * 3)] = successes;
        }

        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(AddOnceScript, [(RedisKey)(options.Value.BanditKeyPrefix + experiment)], arguments);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            if (!_failing)
            {
                _failing = true;
                LogRedisFailed(e.Message);
            }

            return false;
        }

        // Applied now or by an earlier attempt whose answer was lost: either way, counted once.
        _pending.Remove(experiment);
        _lastApplied[experiment] = write.Marker;
        foreach (var (arm, trials, successes) in write.Deltas)
        {
            var last = _written.GetValueOrDefault((experiment, arm));
            _written[(experiment, arm)] = (last.Trials + trials, last.Successes + successes);
        }

        return true;
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
                _written[(experiment.Experiment, arm.Arm)] = Rewards(experiment.Experiment, arm);
            }
        }

        return base.StartAsync(cancellationToken);
    }

    /// <summary>The arm's trials and reward sum since start: by its declared reward outcome, else correct predictions.</summary>
    private (long Trials, double Successes) Rewards(string experiment, ArmSummary arm)
    {
        if (outcomes?.For(experiment).Reward is not { } reward)
        {
            return (arm.Joined, arm.Correct);
        }

        var tally = arm.Outcomes?.FirstOrDefault(o => o.Name == reward.Name);
        return tally is null ? (0, 0) : (tally.Count, tally.RewardSum);
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

    private sealed record PendingWrite(string Marker, List<(string Arm, long Trials, double Successes)> Deltas);
}
