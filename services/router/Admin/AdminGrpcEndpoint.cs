using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mesh.Router.Admin;

/// <summary>
/// The admin gRPC endpoint (<c>Router:Admin:GrpcUrl</c>). gRPC without TLS needs an HTTP/2-only (h2c) listener:
/// Kestrel answers HTTP/2 prior knowledge on an HTTP/1.1-and-2 cleartext port with HTTP_1_1_REQUIRED. Listening
/// on it from code makes Kestrel ignore <c>Urls</c>, so the <c>Urls</c> addresses are listened on here as well.
/// </summary>
internal static class AdminGrpcEndpoint
{
    public const string GrpcUrlKey = "Router:Admin:GrpcUrl";

    public static void Configure(KestrelServerOptions kestrel, IConfiguration configuration)
    {
        var grpcUrl = configuration[GrpcUrlKey];
        if (string.IsNullOrWhiteSpace(grpcUrl))
        {
            return;
        }

        var urls = configuration["urls"] is { Length: > 0 } configured ? configured : "http://localhost:5000";
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Listen(kestrel, url, HttpProtocols.Http1AndHttp2);
        }

        Listen(kestrel, grpcUrl, HttpProtocols.Http2);
    }

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols)
    {
        var address = BindingAddress.Parse(url);
        Action<ListenOptions> configure = listen =>
        {
            listen.Protocols = protocols;
            if (string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase))
            {
                listen.UseHttps();
            }
        };
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host, out var ip))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            // "*", "+" and host names: every interface, as Kestrel does for Urls.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }
}
