namespace Mesh.MetricsSink.Tests;

/// <summary>
/// A real redis-server and metrics sinks on it, each a joiner whose join state is that Redis (one connection each, as
/// separate processes would have), under a key prefix of its own.
/// </summary>
internal sealed class RedisSink : IAsyncDisposable
{
    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly RedisProcess _redis;

    private RedisSink(RedisProcess redis, string prefix) => (_redis, Prefix) = (redis, prefix);

    /// <summary>The join keys' prefix, <paramref name="prefix"/> and a part unique to this sink.</summary>
    public string Prefix { get; }

    /// <summary>The StackExchange.Redis configuration string of the server.</summary>
    public string Configuration => _redis.Configuration;

    public static async Task<RedisSink> StartAsync(string prefix = "test:join:") =>
        new(await RedisProcess.StartAsync(CancellationToken.None), prefix + Guid.NewGuid().ToString("N")[..8] + ":");

    /// <summary>A connection of its own, closed with the sink; short timeouts, so an outage fails fast.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var configuration = ConfigurationOptions.Parse(_redis.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.AsyncTimeout = 2_000;
        configuration.ConnectTimeout = 2_000;
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        _connections.Add(connection);
        return connection;
    }

    /// <summary>One metrics-sink instance's joiner and Redis join state, on a connection of its own.</summary>
    public async Task<(PredictionLabelJoiner Joiner, RedisJoinState State, ConnectionMultiplexer Connection)> JoinerAsync(
        TimeProvider time, int windowSeconds = 600, int marginSeconds = 60, int maxPending = 1000, OutcomeCatalog? outcomes = null, JoinTracer? tracer = null)
    {
        var connection = await ConnectAsync();
        var options = new MetricsSinkOptions { JoinState = "Redis", JoinKeyPrefix = Prefix, JoinWindowSeconds = windowSeconds, JoinKeyTtlMarginSeconds = marginSeconds };
        var queue = new SharedJoinQueue(() => connection.IsConnected, maxPending);
        var joiner = new PredictionLabelJoiner(time, TimeSpan.FromSeconds(windowSeconds), maxPending, JoinBy.RequestId, queue, outcomes);
        var state = new RedisJoinState(queue, joiner, connection, Microsoft.Extensions.Options.Options.Create(options), NullLogger<RedisJoinState>.Instance, tracer: tracer);
        return (joiner, state, connection);
    }

    /// <summary>A sink that traces its joins: its record handler and its Redis join state.</summary>
    public async Task<(MetricsRecordHandler Handler, RedisJoinState State)> SinkAsync()
    {
        var tracer = new JoinTracer("mesh-metrics-sink");
        var (joiner, state, _) = await JoinerAsync(new ManualTimeProvider(), tracer: tracer);
        return (new MetricsRecordHandler(joiner, "labels", tracer: tracer), state);
    }

    /// <summary>Kills the server at once (a Redis outage); the connections stay, and fail.</summary>
    public void StopServer() => _redis.Dispose();

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
