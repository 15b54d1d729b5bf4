using System.Collections.Concurrent;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mesh.ModelHost;

/// <summary>
/// The listen options Kestrel configured for each named endpoint; after start they hold the port the
/// system picked for port 0.
/// </summary>
internal sealed class BoundEndpoints
{
    public const string GrpcName = "Grpc";
    public const string HttpName = "Http";

    private readonly ConcurrentDictionary<string, ListenOptions> _endpoints = new(StringComparer.Ordinal);

    public void Remember(string name, ListenOptions options) => _endpoints[name] = options;

    public ListenOptions? Find(string name) => _endpoints.TryGetValue(name, out var options) ? options : null;
}
