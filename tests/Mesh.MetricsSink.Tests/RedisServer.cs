using Mesh.Cli.Processes;

namespace Mesh.MetricsSink.Tests;

/// <summary>
/// A real redis-server on 127.0.0.1 for a test class, stopped after it or by the test (a Redis outage). It is the
/// mesh's one launcher, <see cref="RedisProcess"/>, which starts again on another port when one it picked was taken
/// before redis-server could bind it; this adds only a stop that may be called twice.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly RedisProcess _process;
    private int _stopped;

    private RedisServer(RedisProcess process) => _process = process;

    /// <summary>The StackExchange.Redis configuration string that reaches it.</summary>
    public string Configuration => _process.Configuration;

    public static async Task<RedisServer> StartAsync() => new(await RedisProcess.StartAsync(CancellationToken.None));

    /// <summary>Kills the server: what a Redis outage looks like to its clients.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _process.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
