using System.Collections.Concurrent;
using Grpc.Net.Client;

namespace Mesh.Router.Inference;

/// <summary>
/// One <see cref="GrpcChannel"/> per model host endpoint for the life of the process: channels own HTTP/2
/// connections, and creating one per call would pay a connection set-up each time.
/// </summary>
internal sealed class ModelEndpointPool : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.OrdinalIgnoreCase);

    public GrpcChannel GetChannel(string endpoint) => _channels.GetOrAdd(endpoint.TrimEnd('/'), static address => CreateChannel(address, loggerFactory: null));

    /// <summary>The channel <see cref="GetChannel"/> keeps for <paramref name="address"/>; tests pass a logger factory to see its connects.</summary>
    internal static GrpcChannel CreateChannel(string address, ILoggerFactory? loggerFactory) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // Several batches are in flight per arm; let them spread over connections instead of queuing on one.
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            },
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            // gRPC's default reconnect backoff (1 s, growing by 1.6 up to 120 s) leaves a restarted model host unused:
            // while the channel waits it fails every call at once without connecting, and its attempts come about 1, 2.6,
            // 5.2, 9.3, 15.8 and 26 s after the first refused one, so a host back after 6 s is found after 9. A host on
            // the same network is tried at least once a second instead: a cheap refused connect while it is still down.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(250),
            MaxReconnectBackoff = TimeSpan.FromSeconds(1),
            LoggerFactory = loggerFactory,
        });

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        _channels.Clear();
    }
}
