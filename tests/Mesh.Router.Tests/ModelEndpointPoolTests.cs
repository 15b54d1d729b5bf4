namespace Mesh.Router.Tests;

/// <summary>How soon the router's channel to a model host tries again once the host stopped answering connects.</summary>
public sealed class ModelEndpointPoolTests
{
    [Fact]
    public async Task Channel_HostRefusesConnections_TriesAgainAtLeastOnceASecond()
    {
        var port = FreePort();
        using var log = new ConnectBackoffLog();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(log));
        using var channel = ModelEndpointPool.CreateChannel($"http://127.0.0.1:{port}", loggers);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        // One call starts the channel connecting; it then keeps trying on its own, announcing each wait.
        await Assert.ThrowsAsync<RpcException>(async () => await client.ServerLiveAsync(new ServerLiveRequest()));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (log.Backoffs.Count < 6 && log.Backoffs.All(WithinASecond) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        // gRPC's default grows 1 s by 1.6 per attempt (the second wait is 1.6 s, up to 120 s): a host back after 6 s
        // would be found after 9. Each wait here is at most 1 s plus gRPC's 20 % jitter.
        Assert.True(log.Backoffs.Count >= 6, $"{log.Backoffs.Count} connect backoffs announced");
        Assert.All(log.Backoffs, b => Assert.True(WithinASecond(b), $"a connect backoff of {b.TotalMilliseconds} ms"));
    }

    private static bool WithinASecond(TimeSpan backoff) => backoff <= TimeSpan.FromSeconds(1.2);

    // A loopback port nothing listens on: bound by the system, then released.
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
