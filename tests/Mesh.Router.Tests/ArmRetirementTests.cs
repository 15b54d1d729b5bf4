namespace Mesh.Router.Tests;

/// <summary>An arm that a reload removes is retired: its records finish, then its batcher and gauges go.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ArmRetirementTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int Entities = 60;
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    private static string Spec(string experiment, string endpoint, string secondArm, string secondModel) => $"""
        experiments:
          - name: {experiment}
            strategy: ab
            arms:
              - name: a
                weight: 50
                endpoint: {endpoint}
                model: model-a
                version: "1"
              - name: {secondArm}
                weight: 50
                endpoint: {endpoint}
                model: {secondModel}
                version: "1"
        """;

    [Fact]
    public async Task Reload_ArmRemoved_ItsBatcherAndGaugesGoAndEveryRecordIsPredicted()
    {
        var experiment = "retire-" + Guid.NewGuid().ToString("N")[..8];
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(experiment, modelHost.Endpoint, "b", "model-b"));
        using var http = router.CreateHttpClient();
        var batchers = router.App.Services.GetRequiredService<ArmBatchers>();
        var registry = router.App.Services.GetRequiredService<ExperimentRegistry>();
        (string, string)[] armB = [("experiment", experiment), ("arm", "b")];

        router.Produce(RouterTestHost.Records("before", 120, Entities));
        var before = router.ReadPredictions(120, s_patience);
        Assert.Contains(before, p => p.Arm == "b");
        Assert.Equal(2, batchers.Count);
        var page = await http.GetStringAsync("/metrics");
        Assert.NotNull(PrometheusScrape.Value(page, "mesh_router_batches_in_flight", armB));
        var retired = registry.Current.Find(experiment)!.Arms.Single(a => a.Identity.Arm == "b");

        // Arm b leaves the experiment; arm c (another model) takes its half.
        await File.WriteAllTextAsync(router.ExperimentFile, Spec(experiment, modelHost.Endpoint, "c", "model-c"));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.PostAsync("/admin/reload", null)).StatusCode);
        router.Produce(RouterTestHost.Records("after", 120, Entities));
        var all = router.ReadPredictions(240, s_patience);

        Assert.Equal(240, all.Select(p => p.RequestId).Distinct().Count());
        Assert.DoesNotContain(all.Where(p => p.RequestId.StartsWith("after", StringComparison.Ordinal)), p => p.Arm == "b");
        Assert.Contains(all, p => p.Arm == "c");
        Assert.True(retired.Retired);
        // The set change is noticed on the next record; the retired batcher then drains and is disposed.
        Assert.Equal(2, batchers.Count);
        await batchers.DrainAsync();
        Assert.Equal(0, batchers.Retiring);
        // The exporter may answer from its scrape cache for a moment; the gauge goes at the next fresh scrape.
        page = await PrometheusScrape.UntilAsync(http, p => PrometheusScrape.Value(p, "mesh_router_batches_in_flight", armB) is null, s_patience, "arm b's in-flight gauge gone");
        Assert.Null(PrometheusScrape.Value(page, "mesh_router_circuit_state", [.. armB, ("state", "closed")]));
        Assert.NotNull(PrometheusScrape.Value(page, "mesh_router_circuit_state", [("experiment", experiment), ("arm", "c"), ("state", "closed")]));
    }
}
