using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Tests;

/// <summary>A real redis-server on a free 127.0.0.1 port, started by a test class and stopped after it (or by the test).</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, string configuration)
    {
        _process = process;
        Configuration = configuration;
    }

    /// <summary>The StackExchange.Redis configuration string that reaches it.</summary>
    public string Configuration { get; }

    public static async Task<RedisServer> StartAsync()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var process = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server)");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var server = new RedisServer(process, $"127.0.0.1:{port}");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
                await connection.GetDatabase().PingAsync();
                return server;
            }
            catch (RedisConnectionException) when (attempt < 300 && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Kills the server: what a Redis outage looks like to its clients.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
