using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Mesh.Deploy.Tests.Launch;

/// <summary>A real redis-server on a free 127.0.0.1 port, in memory only, stopped on dispose.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;

    public RedisServer()
    {
        Port = PodLaunch.FreePort();
        _process = Process.Start(new ProcessStartInfo("redis-server", ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start (is it installed? apt-get install redis-server).");
        _process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var client = new TcpClient("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on 127.0.0.1:{Port}");
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
