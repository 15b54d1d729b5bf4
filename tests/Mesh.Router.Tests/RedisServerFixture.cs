namespace Mesh.Router.Tests;

/// <summary>A real redis-server on a free 127.0.0.1 port, started for the test class and stopped after it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private RedisProcess? _redis;

    public string Configuration => _redis?.Configuration ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _redis = await RedisProcess.StartAsync(CancellationToken.None);

    public Task DisposeAsync()
    {
        _redis?.Dispose();
        return Task.CompletedTask;
    }
}
