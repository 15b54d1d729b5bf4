namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A real service process (the consumer, which has no Kafka health code of its own: it comes from the shared
/// registration) against an embedded broker that the test takes down with the mock's fault API.
/// </summary>
public sealed class KafkaOutageProcessTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Consumer_BrokerDownThenUp_HealthGoesUnhealthyThenHealthy()
    {
        await using var consumer = await StartJoinedAsync(unhealthyAfterSeconds: 0, exitAfterSeconds: 600);

        consumer.Broker.SetBrokerDown(1);
        Assert.True(await HealthBecomesAsync(consumer.Http, consumer.Service, HttpStatusCode.ServiceUnavailable), "unhealthy while the broker is down: " + consumer.Service.Output);

        consumer.Broker.SetBrokerUp(1);
        Assert.True(await HealthBecomesAsync(consumer.Http, consumer.Service, HttpStatusCode.OK), "healthy once the broker is back: " + consumer.Service.Output);
        Assert.False(consumer.Service.HasExited);
    }

    [Fact]
    public async Task Consumer_BrokerDownPastTheExitBound_ExitsNonZero()
    {
        await using var consumer = await StartJoinedAsync(unhealthyAfterSeconds: 1, exitAfterSeconds: 3);

        consumer.Broker.SetBrokerDown(1);

        Assert.Equal(70, await consumer.Service.WaitForExitAsync(s_patience));
        Assert.Contains("Kafka:Health:ExitAfterSeconds", consumer.Service.Output, StringComparison.Ordinal);
    }

    /// <summary>A consumer process on its own embedded broker, asserted ready (joined) before the test takes the broker down.</summary>
    private static async Task<JoinedConsumer> StartJoinedAsync(int unhealthyAfterSeconds, int exitAfterSeconds)
    {
        var broker = EmbeddedKafkaBroker.Start();
        JoinedConsumer? consumer = null;
        try
        {
            var service = await StartConsumerAsync(broker, unhealthyAfterSeconds, exitAfterSeconds);
            consumer = new JoinedConsumer(broker, service, new HttpClient { BaseAddress = service.Url });
            Assert.True(await HealthBecomesAsync(consumer.Http, service, HttpStatusCode.OK), "ready once joined: " + service.Output);
            return consumer;
        }
        catch
        {
            if (consumer is not null)
            {
                await consumer.DisposeAsync();
            }
            else
            {
                broker.Dispose();
            }

            throw;
        }
    }

    private sealed record JoinedConsumer(EmbeddedKafkaBroker Broker, ServiceProcess Service, HttpClient Http) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Service.DisposeAsync();
            Broker.Dispose();
        }
    }

    private static Task<ServiceProcess> StartConsumerAsync(EmbeddedKafkaBroker broker, int unhealthyAfterSeconds, int exitAfterSeconds)
    {
        var predictions = KafkaTestCluster.UniqueTopic("outage.predictions");
        broker.CreateTopic(predictions, 2);
        return Services.StartBoundAsync("consumer", "consumer", "Mesh.Consumer", _ => new Dictionary<string, string>
        {
            ["Urls"] = LoopbackPorts.Url(0),
            ["Kafka__BootstrapServers"] = broker.BootstrapServers,
            ["Kafka__Topics__Predictions"] = predictions,
            ["Kafka__Topics__DeadLetter"] = KafkaTestCluster.UniqueTopic("outage.dead-letter"),
            ["Kafka__Health__UnhealthyAfterSeconds"] = unhealthyAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka__Health__ExitAfterSeconds"] = exitAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka__Health__StatisticsIntervalMs"] = "200",
            ["Consumer__GroupId"] = KafkaTestCluster.UniqueTopic("outage-group"),
        });
    }

    private static async Task<bool> HealthBecomesAsync(HttpClient http, ServiceProcess service, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (DateTime.UtcNow < deadline && !service.HasExited)
        {
            try
            {
                using var response = await http.GetAsync("/health");
                if (response.StatusCode == expected)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        return false;
    }
}
