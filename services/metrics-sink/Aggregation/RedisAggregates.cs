using StackExchange.Redis;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The durable half of the Redis join state: persists what each decided record added to the counts and per-arm
/// totals (<see cref="RedisJoinScript.AccountScript"/>, once per record however often it is read), and reads them
/// back when the sink starts, so a killed and restarted sink counts every pair once. The aggregates hash and the
/// request hashes are written by one script: on a Redis Cluster they would need one hash slot, so durable
/// aggregates need a standalone (or replicated) Redis.
/// </summary>
internal sealed partial class RedisAggregates(IConnectionMultiplexer redis, string prefix, RedisValue ttlMs, ILogger logger)
{
    private readonly RedisKey _key = DurableFigures.Key(prefix);
    private bool _failing;

    /// <summary>Persists the writes of the operations that have any; false when Redis did not take them (they stay counted in memory only).</summary>
    public async Task<bool> PersistAsync(IReadOnlyList<SharedJoinOperation> operations)
    {
        var counted = operations.Where(o => o.CountedMark is not null).ToList();
        if (counted.Count == 0)
        {
            return true;
        }

        try
        {
            var database = redis.GetDatabase();
            var batch = database.CreateBatch();
            var calls = new List<Task<RedisResult>>();
            foreach (var chunk in counted.Chunk(RedisJoinState.MaxPerScript))
            {
                RedisKey[] keys = [_key, .. chunk.Select(o => (RedisKey)(prefix + o.RequestId))];
                calls.Add(batch.ScriptEvaluateAsync(RedisJoinScript.AccountScript, keys, RedisJoinScript.AccountArguments(ttlMs, chunk)));
            }

            batch.Execute();
            await Task.WhenAll(calls);
            if (_failing)
            {
                _failing = false;
                LogRecovered();
            }

            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            if (!_failing)
            {
                _failing = true;
                LogPersistFailed(counted.Count, e.Message);
            }

            return false;
        }
    }

    /// <summary>The persisted aggregates, or none when Redis does not answer (logged: the counts then start from zero).</summary>
    public async Task<List<(string Field, string Value)>> LoadAsync()
    {
        try
        {
            var entries = await redis.GetDatabase().HashGetAllAsync(_key);
            var fields = entries.Select(e => ((string)e.Name!, (string)e.Value!)).ToList();
            LogLoaded(fields.Count);
            return fields;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogLoadFailed(e.Message);
            return [];
        }
    }

    [LoggerMessage(EventId = 52, Level = LogLevel.Warning, Message = "Could not persist the counts of {Count} records to Redis ({Reason}); they are counted in this process only")]
    private partial void LogPersistFailed(int count, string reason);

    [LoggerMessage(EventId = 53, Level = LogLevel.Information, Message = "Persisting counts to Redis again")]
    private partial void LogRecovered();

    [LoggerMessage(EventId = 54, Level = LogLevel.Information, Message = "Read {Count} persisted aggregate figures from Redis")]
    private partial void LogLoaded(int count);

    [LoggerMessage(EventId = 55, Level = LogLevel.Warning, Message = "Could not read the persisted aggregates from Redis ({Reason}); counting from zero")]
    private partial void LogLoadFailed(string reason);
}
