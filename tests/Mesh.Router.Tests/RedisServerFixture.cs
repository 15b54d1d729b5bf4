using System.Diagnostics;
using StackExchange.Redis;

namespace Mesh.Router.Tests;

/// <summary>A real redis-server on a free 127.0.0.1 port, started for the test class and stopped after it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private Process? _process;

    public string Configuration { get; private set; } = "";

    public async Task InitializeAsync()
    {
        // redis-server cannot listen on port 0 and report it, so a free port is picked and, when another process took
        // it before redis bound it (redis then exits), picked again.
        for (var attempt = 1; ; attempt++)
        {
            if (await TryStartAsync(FreePort()))
            {
                return;
            }

            if (attempt == 5)
            {
                throw new InvalidOperationException("redis-server did not start on a free port after 5 attempts.");
            }
        }
    }

    private async Task<bool> TryStartAsync(int port)
    {
        _process?.Dispose();
        _process = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start (is it installed? apt-get install redis-server).");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Configuration = $"127.0.0.1:{port}";

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var connection = await ConnectionMultiplexer.ConnectAsync(Configuration);
                await connection.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                if (_process.HasExited)
                {
                    // Most likely "Address already in use": try another port.
                    return false;
                }

                await Task.Delay(100);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }
}
