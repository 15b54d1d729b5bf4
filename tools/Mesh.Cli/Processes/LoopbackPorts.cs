using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Mesh.Cli.Processes;

/// <summary>
/// Ports for one start of a child that must be told its port before it starts: the model host's two named endpoints,
/// a port written into another service's configuration, redis-server (which cannot bind port 0 and report it). Each
/// is free when picked, but another process may take it before the child binds it: only
/// <see cref="ServiceProcess.StartBoundAsync"/> hands these out, and it starts the child again on new ones when that
/// happens. A child that can bind port 0 itself (<c>Urls=http://127.0.0.1:0</c>) needs none of this.
/// </summary>
internal sealed class LoopbackPorts
{
    private readonly List<int> _picked = [];

    /// <summary>The ports handed out so far, in order.</summary>
    public IReadOnlyList<int> Picked => _picked;

    /// <summary>A port free on 127.0.0.1 now.</summary>
    public int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _picked.Add(port);
        return port;
    }

    /// <summary><c>http://127.0.0.1:&lt;a new port&gt;</c>.</summary>
    public string NextUrl() => Url(Next());

    public static string Url(int port) => "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
}
