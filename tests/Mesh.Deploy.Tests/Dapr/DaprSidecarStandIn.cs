namespace Mesh.Deploy.Tests.Dapr;

/// <summary>
/// A stand-in for the Dapr sidecar (daprd) in the test process: the configuration part of Dapr's gRPC runtime API
/// (package dapr.proto.runtime.v1, see Dapr/Protos) on 127.0.0.1, HTTP/2 cleartext as daprd serves it on its gRPC
/// port. It can go away and come back on the same port, as a restarted sidecar does; its store outlives it. The
/// first start binds a port the system picks, read back from Kestrel.
/// </summary>
internal sealed class DaprSidecarStandIn(string storeName) : IAsyncDisposable
{
    private WebApplication? _app;

    public ConfigurationStore Store { get; } = new();

    public int Port { get; private set; }

    public string Endpoint => $"http://127.0.0.1:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, Port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new DaprConfigurationService(storeName, Store));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        _app = builder.Build();
        _app.MapGrpcService<DaprConfigurationService>();
        await _app.StartAsync();
        if (Port == 0)
        {
            Port = new Uri(_app.Urls.Single()).Port;
        }
    }

    /// <summary>The sidecar goes away: open subscriptions break, calls are refused.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
