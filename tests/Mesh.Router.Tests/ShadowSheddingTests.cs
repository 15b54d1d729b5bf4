namespace Mesh.Router.Tests;

/// <summary>Shadows are shed only when their own budget is really used up, and every shed record is counted.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ShadowSheddingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    /// <summary>An A/B whose shadow "slow" calls the gated model: its batches hang until the gate opens.</summary>
    private static string SpecWithHangingShadow(string experiment, string endpoint) => $"""
        experiments:
          - name: {experiment}
            strategy: ab
            arms:
              - name: champion
                weight: 1
                endpoint: {endpoint}
                model: model-champion
            shadows:
              - name: slow
                endpoint: {endpoint}
                model: {FakeModelHost.GatedModel}
                timeoutMs: 120000
        """;

    [Fact]
    public async Task Shadow_BudgetFullOfHangingBatches_ShedsTheRestAndCountsEachOnMetricsFromZero()
    {
        const int Count = 24;
        var budget = new RouterOptions().Shadow.MaxInFlightBatches;
        var experiment = "shed-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, SpecWithHangingShadow(experiment, modelHost.Endpoint),
            // One record per batch, so each record the shadow takes holds one of its slots until the gate opens.
            new Dictionary<string, string?> { ["Router:Batching:MaxBatchSize"] = "1" });
        using var http = router.CreateHttpClient(token: null);

        Assert.Equal(0, await ShedAsync(http, experiment));

        router.Produce(RouterTestHost.Records("shed", Count, entities: Count));
        var predictions = router.ReadPredictions(Count, s_patience);
        modelHost.ReleaseGate();
        var shadows = router.ReadShadowPredictions(budget, s_patience);

        Assert.Equal(Count, predictions.Count);
        Assert.Equal(budget, shadows.Count);
        Assert.True(budget >= 8, $"the default shadow budget is {budget} batches: too small to absorb a momentary peak");
        // The scrape may lag the last record by the exporter's short response cache: read until it settles.
        var shed = await ShedAsync(http, experiment);
        for (var deadline = DateTime.UtcNow + s_patience; shed != Count - budget && DateTime.UtcNow < deadline; shed = await ShedAsync(http, experiment))
        {
            await Task.Delay(200);
        }

        Assert.Equal(Count - budget, shed);
    }

    [Fact]
    public async Task ExactlyOnce_ShadowBatchesHang_PrimaryTransactionsStillCommitAndShadowsArriveLater()
    {
        const int Count = 20;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, SpecWithHangingShadow("eos-shadow", modelHost.Endpoint),
            new Dictionary<string, string?>
            {
                ["Router:ExactlyOnce:Enabled"] = "true",
                ["Router:ExactlyOnce:TransactionalId"] = "router-eos-shadow-" + Guid.NewGuid().ToString("N"),
                ["Router:ExactlyOnce:CommitIntervalMs"] = "100",
                // Few, large batches, so no shadow record is shed and all of them can be counted at the end.
                ["Router:Batching:MaxDelayMs"] = "500",
            });
        router.Produce(RouterTestHost.Records("eos-shadow", Count, entities: Count));

        // read_committed: the primary predictions are visible only once their transaction committed, which it must
        // do while the shadow's batches still hang in the model host.
        var predictions = router.ReadPredictions(Count, s_patience);
        Assert.Equal(Count, predictions.Select(p => p.RequestId).Distinct().Count());
        Assert.Empty(router.ReadShadowPredictions(1, TimeSpan.FromMilliseconds(200)));

        modelHost.ReleaseGate();
        var shadows = router.ReadShadowPredictions(Count, s_patience);
        Assert.Equal(Count, shadows.Select(p => p.RequestId).Distinct().Count());
    }

    /// <summary>The shadow's <c>mesh_router_shadow_shed_total</c> on /metrics; throws when the series is missing.</summary>
    private static async Task<long> ShedAsync(HttpClient http, string experiment)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (true)
        {
            var text = await http.GetStringAsync("/metrics");
            var line = text.Split('\n').FirstOrDefault(l =>
                l.StartsWith("mesh_router_shadow_shed_total{", StringComparison.Ordinal) &&
                l.Contains($"experiment=\"{experiment}\"", StringComparison.Ordinal) &&
                l.Contains("arm=\"slow\"", StringComparison.Ordinal));
            if (line is not null)
            {
                return long.Parse(line[(line.IndexOf('}') + 2)..].Split(' ')[0], CultureInfo.InvariantCulture);
            }

            Assert.True(DateTime.UtcNow < deadline, "mesh_router_shadow_shed_total has no series for the shadow:\n" + text);
            await Task.Delay(200);
        }
    }
}
