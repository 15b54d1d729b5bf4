namespace Mesh.MetricsSink.Tests;

/// <summary>
/// A test class of the bandit rewards the sink writes to a real redis-server, started for each test: the server, one
/// connection to it, writers on that connection, and the hash the router's bandits read back.
/// </summary>
public abstract class BanditHashTests : IAsyncLifetime
{
    private RedisProcess? _redis;

    protected ConnectionMultiplexer Connection { get; private set; } = null!;

    /// <summary>The redis-server (its configuration string, its process to stop and let go).</summary>
    internal RedisProcess Redis => _redis ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        _redis = await RedisProcess.StartAsync(CancellationToken.None);
        Connection = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
    }

    public Task DisposeAsync()
    {
        Connection?.Dispose();
        _redis?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A writer of <paramref name="joiner"/>'s rewards with <paramref name="options"/>, on <see cref="Connection"/> unless given another.</summary>
    internal BanditRewardWriter Writer(
        PredictionLabelJoiner joiner, MetricsSinkOptions options, OutcomeCatalog? outcomes = null, IConnectionMultiplexer? connection = null) =>
        new(joiner, connection ?? Connection, Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System,
            NullLogger<BanditRewardWriter>.Instance, outcomes);

    /// <summary>Every field of the hash <paramref name="key"/> and its value.</summary>
    protected async Task<Dictionary<string, string>> HashAsync(string key) =>
        (await Connection.GetDatabase().HashGetAllAsync(key)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
}
