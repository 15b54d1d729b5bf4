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

    public GrpcChannel GetChannel(string endpoint) => _channels.GetOrAdd(endpoint.TrimEnd('/'), static address =>
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
        }));

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        _channels.Clear();
    }
}
