using System.Net;
using System.Net.Sockets;

namespace Mesh.EmbeddedBroker;

/// <summary>
/// Listens on a fixed loopback port and pipes every connection to a mock broker's own port. The mock picks its
/// listening ports itself; with this in front, a restarted broker comes back at the address clients already
/// have, and librdkafka's reconnects find it.
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public TcpForwarder(int port, IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, port);
        // The previous broker's connections may linger in TIME_WAIT on this port; a restart must still bind it.
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                client.NoDelay = true;
                upstream.NoDelay = true;
                await upstream.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
                var fromClient = client.GetStream();
                var toBroker = upstream.GetStream();
                // Either side closing ends both: the client then sees the broker go, as it would without us.
                await Task.WhenAny(fromClient.CopyToAsync(toBroker, _stop.Token), toBroker.CopyToAsync(fromClient, _stop.Token)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }
}
