namespace Mesh.Router.Tests;

/// <summary>
/// An arm without a fallback whose only model host goes away (its pod restarting): the router holds the records
/// and waits for the host, as it does for a full queue, instead of dead-lettering what nothing else could answer.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class HostUnreachableTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ModelInfer_OnlyHostStoppedThenBackOnItsPort_EveryRecordPredictedOnceAndNoneDeadLettered()
    {
        var host = await FakeModelHost.StartAsync();
        var port = host.Port;
        try
        {
            await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm("lone-host", host.Endpoint, FakeModelHost.ConstantModel, arm: "only"), new Dictionary<string, string?>
            {
                ["Router:CircuitBreaker:FailureThreshold"] = "2",
                ["Router:CircuitBreaker:BreakMs"] = "200",
            });
            router.Produce(RouterTestHost.Records("before", 20, entities: 20));
            Assert.Equal(20, router.ReadPredictions(20, s_patience).Count);

            await host.DisposeAsync();
            router.Produce(RouterTestHost.Records("during", 40, entities: 40));

            // The router has found the host gone, several times, before it comes back.
            using var http = router.CreateHttpClient();
            await WaitForUnavailableWaitsAsync(http, atLeast: 3);
            host = await FakeModelHost.StartAsync(port);
            var predictions = router.ReadPredictions(60, s_patience);

            Assert.Equal(60, predictions.Count);
            Assert.Equal(
                Enumerable.Range(0, 20).Select(i => $"before-{i}").Concat(Enumerable.Range(0, 40).Select(i => $"during-{i}")).Order(),
                predictions.Select(p => p.RequestId).Order());
            Assert.All(predictions, p => Assert.Equal((FakeModelHost.ConstantModel, false), (p.ModelName, p.Fallback)));
            Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task ModelInfer_OnlyHostGoneLongerThanTheWait_DeadLetteredNamingTheSetting()
    {
        var host = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Specs.OneArm("lone-host", host.Endpoint, FakeModelHost.ConstantModel, arm: "only"), new Dictionary<string, string?>
        {
            ["Router:Backpressure:HostUnavailableMaxWaitMs"] = "300",
        });
        await host.DisposeAsync();
        router.Produce(RouterTestHost.Records("gone", 10, entities: 10));

        var letters = router.ReadDeadLetters(10, s_patience);

        Assert.Equal(10, letters.Count);
        Assert.All(letters, l =>
        {
            Assert.Equal("inference", l.ErrorClass);
            Assert.Contains("Router:Backpressure:HostUnavailableMaxWaitMs", l.ErrorMessage, StringComparison.Ordinal);
        });
        Assert.Empty(router.ReadPredictions(1, TimeSpan.FromSeconds(1)));
    }

    /// <summary>Waits until <c>mesh_router_host_unavailable_waits_total</c> of the arm reaches <paramref name="atLeast"/>.</summary>
    private static async Task WaitForUnavailableWaitsAsync(HttpClient http, long atLeast)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (true)
        {
            var text = await http.GetStringAsync("/metrics");
            var line = text.Split('\n').FirstOrDefault(l =>
                l.StartsWith("mesh_router_host_unavailable_waits_total{", StringComparison.Ordinal) &&
                l.Contains("arm=\"only\"", StringComparison.Ordinal));
            if (line is not null && long.Parse(line[(line.IndexOf('}') + 2)..].Split(' ')[0], CultureInfo.InvariantCulture) >= atLeast)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"mesh_router_host_unavailable_waits_total never reached {atLeast}; the router's own series:\n" +
                string.Join('\n', text.Split('\n').Where(l => l.StartsWith("mesh_router_", StringComparison.Ordinal))));
            await Task.Delay(100);
        }
    }
}
