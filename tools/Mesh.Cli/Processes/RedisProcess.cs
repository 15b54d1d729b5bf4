using System.Diagnostics;
using System.Globalization;

namespace Mesh.Cli.Processes;

/// <summary>
/// A real redis-server on 127.0.0.1, without persistence: the sink's durable state for one chaos run, the bandit
/// store and join state of the tests. redis-server cannot bind port 0 and report it, so its port is picked and,
/// when another process takes it first, picked again (<see cref="ServiceProcess.StartBoundAsync(string, Func{LoopbackPorts, ProcessStartInfo}, string, TimeSpan)"/>).
/// </summary>
internal sealed class RedisProcess : IDisposable
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    private readonly ServiceProcess _server;

    private RedisProcess(ServiceProcess server, int port)
    {
        _server = server;
        Port = port;
        Configuration = "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The StackExchange.Redis configuration string that reaches it (also <c>host:port</c>).</summary>
    public string Configuration { get; }

    public int Port { get; }

    /// <summary>The server's process id, for a test that pauses it (SIGSTOP) to stand for a Redis that stops answering.</summary>
    public int ProcessId => _server.Id;

    public static async Task<RedisProcess> StartAsync(CancellationToken cancellationToken)
    {
        var port = 0;
        var server = await ServiceProcess.StartBoundAsync("redis-server", ports =>
        {
            port = ports.Next();
            return new ProcessStartInfo("redis-server", ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        }, "Ready to accept connections", s_patience).ConfigureAwait(false);
        var redis = new RedisProcess(server, port);
        if (server.HasExited || !server.Output.Contains("Ready to accept connections", StringComparison.Ordinal))
        {
            redis.Dispose();
            throw new InvalidOperationException($"redis-server did not start on 127.0.0.1 (is it installed? apt-get install redis-server):{Environment.NewLine}{server.Output}");
        }

        cancellationToken.ThrowIfCancellationRequested();
        return redis;
    }

    /// <summary>Kills the server at once: what a Redis outage looks like to its clients. A second call does nothing.</summary>
    public void Dispose() => _server.KillAndWait();
}
