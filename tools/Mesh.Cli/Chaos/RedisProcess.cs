using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Mesh.Cli.Processes;

namespace Mesh.Cli.Chaos;

/// <summary>A real redis-server on a free 127.0.0.1 port, without persistence: the sink's durable state for one run.</summary>
internal sealed class RedisProcess : IDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Configuration = $"127.0.0.1:{port}";
        Port = port;
    }

    /// <summary>The StackExchange.Redis configuration string that reaches it.</summary>
    public string Configuration { get; }

    public int Port { get; }

    public static async Task<RedisProcess> StartAsync(CancellationToken cancellationToken)
    {
        var port = ServiceProcess.FreePort();
        var info = new ProcessStartInfo("redis-server", ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server).");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var redis = new RedisProcess(process, port);
        // Listening is enough here: the sink's own client retries until Redis answers.
        for (var attempt = 0; attempt < 100 && !process.HasExited; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
                return redis;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        redis.Dispose();
        throw new InvalidOperationException($"redis-server did not listen on 127.0.0.1:{port}.");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }
}
