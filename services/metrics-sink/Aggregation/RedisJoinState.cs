using System.Diagnostics.Metrics;
using Mesh.Contracts.V1;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The join state in Redis (<c>MetricsSink:JoinState=Redis</c>), shared by every metrics-sink instance and kept
/// across restarts. One hash per request id, <c>{MetricsSink:JoinKeyPrefix}{requestId}</c>: field <c>l</c> holds the
/// label and <c>p:{experiment}␟{arm}␟{0|1 shadow}</c> each arm's prediction, as protobuf bytes; an empty value marks a
/// record given up at expiry. Every new record sets the key's TTL to the join window plus
/// <c>MetricsSink:JoinKeyTtlMarginSeconds</c>, so Redis holds nothing longer than that after a request's last record.
/// </summary>
/// <remarks>
/// A Lua script, atomic in Redis, handles each record: HSETNX tells a duplicate from a new record across instances,
/// and of a prediction and its label the one stored second joins (the script returns the partner), so a pair is
/// joined exactly once wherever its halves arrived. The consume loop never waits for Redis: the joiner queues the
/// records, and this service sends everything queued as one pipelined batch (one round trip; one script call per
/// <see cref="MaxPerScript"/> records), then hands the answers back.
/// When Redis fails or is away the operations are decided in memory, counted and logged, and the stream goes on.
/// </remarks>
internal sealed partial class RedisJoinState : BackgroundService
{
    /// <summary>Most operations in one pipelined round trip.</summary>
    public const int MaxBatch = 8192;

    /// <summary>Most operations in one script call: Redis runs a script alone, so this bounds how long it waits on us.</summary>
    public const int MaxPerScript = 256;

    private readonly SharedJoinQueue _queue;
    private readonly PredictionLabelJoiner _joiner;
    private readonly IConnectionMultiplexer _redis;
    private readonly MetricsSinkTelemetry? _telemetry;
    private readonly JoinTracer? _tracer;
    private readonly ILogger<RedisJoinState> _logger;
    private readonly string _prefix;
    private readonly RedisValue _ttlMs;
    private readonly RedisAggregates _aggregates;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _roundTrips;
    private long _operations;
    private long _failedOperations;
    private bool _failing;

    public RedisJoinState(
        SharedJoinQueue queue,
        PredictionLabelJoiner joiner,
        IConnectionMultiplexer redis,
        IOptions<MetricsSinkOptions> options,
        ILogger<RedisJoinState> logger,
        MetricsSinkTelemetry? telemetry = null,
        IMeterFactory? meterFactory = null,
        JoinTracer? tracer = null)
    {
        _tracer = tracer;
        _queue = queue;
        _joiner = joiner;
        _redis = redis;
        _logger = logger;
        _telemetry = telemetry;
        _prefix = options.Value.JoinKeyPrefix;
        _ttlMs = (options.Value.JoinWindowSeconds + (long)options.Value.JoinKeyTtlMarginSeconds) * 1000;
        _aggregates = new RedisAggregates(redis, _prefix, _ttlMs, logger);
        if (meterFactory is not null)
        {
            var meter = meterFactory.Create(MetricsSinkTelemetry.Name);
            meter.CreateObservableCounter("mesh.metrics_sink.join_state.round_trips", () => RoundTrips, description: "Pipelined batches sent to the Redis join state.");
            meter.CreateObservableCounter("mesh.metrics_sink.join_state.operations", () => Operations, description: "Records and expiries sent to the Redis join state.");
            meter.CreateObservableCounter("mesh.metrics_sink.join_state.failed_operations", () => FailedOperations, description: "Operations Redis did not answer, decided in memory.");
            meter.CreateObservableCounter("mesh.metrics_sink.join_state.remote_joins", () => _joiner.RemoteJoins, description: "Predictions joined with a partner stored in Redis by another instance or an earlier process.");
            meter.CreateObservableCounter("mesh.metrics_sink.join_state.memory_fallbacks", () => _joiner.MemoryFallbacks, description: "Records and expiries decided in memory because Redis was away or its queue full.");
            meter.CreateObservableGauge("mesh.metrics_sink.join_state.backlog", () => _joiner.SharedBacklog, description: "Operations waiting for Redis.");
        }
    }

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    public long Operations => Interlocked.Read(ref _operations);

    public long FailedOperations => Interlocked.Read(ref _failedOperations);

    /// <summary>Sends what the joiner queued (up to <see cref="MaxBatch"/>) in one round trip and applies the answers; returns how many.</summary>
    public async Task<int> FlushAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var operations = _joiner.TakeShared(MaxBatch);
            if (operations.Count == 0)
            {
                return 0;
            }

            await SendAsync(operations);
            var outcomes = _joiner.ApplyShared(operations);
            foreach (var (isLabel, outcome) in outcomes)
            {
                Count(isLabel, outcome);
            }

            Trace(operations, outcomes);

            // The records' offsets may be stored only once what they counted is in Redis too.
            await _aggregates.PersistAsync(operations);
            _joiner.CompleteShared(operations);
            return operations.Count;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task SendAsync(List<SharedJoinOperation> operations)
    {
        Interlocked.Add(ref _operations, operations.Count);
        var calls = new List<(int[] Operations, Task<RedisResult> Reply)>();
        string? error = null;
        if (!_redis.IsConnected)
        {
            error = "not connected";
        }
        else
        {
            try
            {
                // One script call per hash slot and chunk (a cluster runs a script on one slot only; standalone Redis
                // has none, so everything goes in chunks of MaxPerScript), all in one pipelined round trip.
                var bySlot = new Dictionary<int, List<int>>();
                var keys = new RedisKey[operations.Count];
                for (var i = 0; i < operations.Count; i++)
                {
                    keys[i] = _prefix + operations[i].RequestId;
                    var slot = _redis.GetHashSlot(keys[i]);
                    if (!bySlot.TryGetValue(slot, out var indexes))
                    {
                        indexes = [];
                        bySlot[slot] = indexes;
                    }

                    indexes.Add(i);
                }

                var batch = _redis.GetDatabase().CreateBatch();
                foreach (var indexes in bySlot.Values)
                {
                    foreach (var chunk in indexes.Chunk(MaxPerScript))
                    {
                        calls.Add((chunk, batch.ScriptEvaluateAsync(RedisJoinScript.Script, [.. chunk.Select(i => keys[i])], RedisJoinScript.Arguments(_ttlMs, operations, chunk))));
                    }
                }

                batch.Execute();
                Interlocked.Increment(ref _roundTrips);
                await Task.WhenAll(calls.Select(c => c.Reply));
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                // What did not answer is decided in memory below.
                error = e.Message;
            }
        }

        var answered = new bool[operations.Count];
        foreach (var (chunk, reply) in calls)
        {
            if (reply.IsCompletedSuccessfully && reply.Result.Resp2Type == ResultType.Array && (RedisResult[]?)reply.Result is { } items && items.Length == chunk.Length)
            {
                for (var j = 0; j < chunk.Length; j++)
                {
                    answered[chunk[j]] = RedisJoinScript.TryRead(operations[chunk[j]], items[j]);
                }
            }
        }

        var failed = 0;
        for (var i = 0; i < operations.Count; i++)
        {
            if (!answered[i])
            {
                operations[i].Failed = true;
                failed++;
            }
        }

        if (failed > 0)
        {
            Interlocked.Add(ref _failedOperations, failed);
            if (!_failing)
            {
                _failing = true;
                LogRedisFailed(failed, error ?? "unexpected replies");
            }
        }
        else if (_failing)
        {
            _failing = false;
            LogRedisRecovered();
        }
    }

    // The outcomes are those of the records, in order; expiries have none.
    private void Trace(List<SharedJoinOperation> operations, List<(bool IsLabel, JoinOutcome Outcome)> outcomes)
    {
        if (_tracer is null)
        {
            return;
        }

        var next = 0;
        foreach (var operation in operations)
        {
            if (operation.Kind is not (SharedJoinKind.Prediction or SharedJoinKind.Label) || next >= outcomes.Count)
            {
                continue;
            }

            if (outcomes[next++].Outcome != JoinOutcome.Joined)
            {
                continue;
            }

            if (operation.Label is not null)
            {
                _tracer.LabelJoinedInRedis(operation.Trace, operation.JoinedTraces, operation.PartnerPredictions.Select(p => Partner(p.Bytes)).OfType<Prediction>());
            }
            else if (operation.Prediction is { } prediction)
            {
                _tracer.PredictionJoinedInRedis(prediction, operation.Trace, operation.JoinedTraces);
            }
        }
    }

    // An empty value marks a prediction given up at expiry; what does not parse was never joined either.
    private static Prediction? Partner(byte[] bytes)
    {
        try
        {
            return bytes.Length == 0 ? null : Prediction.Parser.ParseFrom(bytes);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    // As the consume loop counts an outcome decided at once.
    private void Count(bool isLabel, JoinOutcome outcome)
    {
        if (_telemetry is null)
        {
            return;
        }

        switch (outcome)
        {
            case JoinOutcome.Duplicate:
                _telemetry.Duplicates.Add(1);
                return;
            case JoinOutcome.Joined:
                _telemetry.Joined.Add(1);
                break;
        }

        (isLabel ? _telemetry.Labels : _telemetry.Predictions).Add(1);
    }

    /// <summary>Reads back what earlier processes counted before the consume loop (registered after this) starts.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _joiner.Restore(await _aggregates.LoadAsync());
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.WaitAsync(stoppingToken))
            {
                while (await FlushAsync() == MaxBatch)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // What the consume loop queued last goes to Redis before the process ends.
        while (await FlushAsync() > 0)
        {
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "The Redis join state did not answer {Count} operations ({Reason}); deciding in memory until it does")]
    private partial void LogRedisFailed(int count, string reason);

    [LoggerMessage(EventId = 51, Level = LogLevel.Information, Message = "The Redis join state answers again")]
    private partial void LogRedisRecovered();
}
