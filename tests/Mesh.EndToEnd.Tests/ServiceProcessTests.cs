namespace Mesh.EndToEnd.Tests;

/// <summary>Starting a real service on loopback ports without racing other processes for them.</summary>
public sealed class ServiceProcessTests
{
    [Fact]
    public async Task StartBoundAsync_PortTakenBeforeTheServiceBindsIt_StartsAgainOnANewPortAndServes()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        // Another process's socket on the port the first attempt is given: what a pick-then-bind race looks like.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var attempts = 0;

        await using var service = await Services.StartBoundAsync("consumer", "consumer", "Mesh.Consumer", ports => new Dictionary<string, string>
        {
            ["Urls"] = ++attempts == 1 ? LoopbackPorts.Url(takenPort) : ports.NextUrl(),
            ["Kafka__BootstrapServers"] = broker.BootstrapServers,
            ["Kafka__Topics__Predictions"] = KafkaTestCluster.UniqueTopic("bound.predictions"),
            ["Kafka__Topics__DeadLetter"] = KafkaTestCluster.UniqueTopic("bound.dead-letter"),
        });

        Assert.False(service.HasExited, service.Output);
        Assert.Equal(2, attempts);
        Assert.NotEqual(takenPort, service.Url.Port);
        using var http = new HttpClient();
        using var alive = await http.GetAsync(new Uri(service.Url, "/alive"));
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }
}
