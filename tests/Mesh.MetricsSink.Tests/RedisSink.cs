using Mesh.Cli.Processes;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Consuming;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Tests;

/// <summary>
/// A real redis-server and metrics sinks on it, each a record handler over a joiner whose join state is that Redis
/// (one connection each, as separate processes would have), tracing its joins.
/// </summary>
internal sealed class RedisSink : IAsyncDisposable
{
    private readonly string _prefix = "test:join:" + Guid.NewGuid().ToString("N")[..8] + ":";
    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly RedisProcess _redis;

    private RedisSink(RedisProcess redis) => _redis = redis;

    public static async Task<RedisSink> StartAsync() => new(await RedisProcess.StartAsync(CancellationToken.None));

    public async Task<(MetricsRecordHandler Handler, RedisJoinState State)> SinkAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        _connections.Add(connection);
        var options = new MetricsSinkOptions { JoinState = "Redis", JoinKeyPrefix = _prefix };
        var queue = new SharedJoinQueue(() => connection.IsConnected, 1000);
        var joiner = new PredictionLabelJoiner(new ManualTimeProvider(), TimeSpan.FromSeconds(options.JoinWindowSeconds), 1000, JoinBy.RequestId, queue);
        var tracer = new JoinTracer("mesh-metrics-sink");
        var state = new RedisJoinState(queue, joiner, connection, Microsoft.Extensions.Options.Options.Create(options), NullLogger<RedisJoinState>.Instance, tracer: tracer);
        return (new MetricsRecordHandler(joiner, "labels", tracer: tracer), state);
    }

    public ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        _redis.Dispose();
        return ValueTask.CompletedTask;
    }
}
