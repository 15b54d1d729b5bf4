namespace Mesh.Router.Tests;

/// <summary>A model host whose queue is full (RESOURCE_EXHAUSTED) slows the router down; it never costs a record.</summary>
public sealed class HostBackpressureTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ModelInfer_HostQueueFull_RetriedOnTheSameArmWithoutFallbackDeadLetterOrOpenCircuit()
    {
        const int Count = 40;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: busy-host
                strategy: ab
                fallback: champion
                arms:
                  - name: champion
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.ConstantModel}
                  - name: challenger
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.BusyModel}
            """,
            new Dictionary<string, string?>
            {
                // One failure would open the circuit: a busy host must not count as one.
                ["Router:CircuitBreaker:FailureThreshold"] = "1",
                ["Router:CircuitBreaker:BreakMs"] = "600000",
            });
        router.Produce(RouterTestHost.Records("busy", Count, entities: Count));

        var predictions = router.ReadPredictions(Count, s_patience);

        Assert.Equal(Count, predictions.Select(p => p.RequestId).Distinct().Count());
        var challenger = predictions.Where(p => p.Arm == "challenger").ToList();
        Assert.NotEmpty(challenger);
        // Answered by the challenger's own model, after the host's refusals: no fallback, no open circuit.
        Assert.All(challenger, p => Assert.Equal((FakeModelHost.BusyModel, false), (p.ModelName, p.Fallback)));
        Assert.Equal(FakeModelHost.BusyRefusals, modelHost.BusyRefusalsGiven);
        Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task ModelInfer_HostStillLoadingAndAskingToRetry_BatchHeldUntilItServesWithoutDeadLetters()
    {
        const int Count = 30;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: loading-host
                strategy: ab
                arms:
                  - name: only
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.LoadingModel}
            """,
            new Dictionary<string, string?>
            {
                // No fallback: without the hold, the first UNAVAILABLE answers would dead-letter their batches.
                ["Router:CircuitBreaker:FailureThreshold"] = "1",
                ["Router:CircuitBreaker:BreakMs"] = "100",
            });
        router.Produce(RouterTestHost.Records("loading", Count, entities: Count));

        var predictions = router.ReadPredictions(Count, s_patience);

        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"loading-{i}").Order(), predictions.Select(p => p.RequestId).Distinct().Order());
        Assert.All(predictions, p => Assert.Equal((FakeModelHost.LoadingModel, false), (p.ModelName, p.Fallback)));
        Assert.Equal(FakeModelHost.LoadingRefusals, modelHost.LoadingRefusalsGiven);
        Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }
}
