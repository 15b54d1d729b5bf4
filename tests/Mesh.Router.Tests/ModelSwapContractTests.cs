namespace Mesh.Router.Tests;

/// <summary>
/// A model host that swaps the model version under a running arm (a new folder, an MLflow alias moved): each version
/// it answers with is checked against the arm's feature contract before its answers are used, so a version that takes
/// its features in another order is refused, naming them, instead of being scored by the old column order.
/// </summary>
public sealed class ModelSwapContractTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);
    private static readonly string[] s_names = ["f0", "f1", "f2", "f3"];

    [Fact]
    public async Task Router_HostSwapsToAVersionWithReorderedFeatures_RefusesItNamingTheFeaturesAndTakesAMatchingVersionAgain()
    {
        await using var host = await FakeModelHost.StartAsync();
        host.Serve("1", s_names);
        await using var router = await RouterTestHost.StartAsync(cluster, Spec("swap", host.Endpoint));

        router.Produce(RouterTestHost.Records("v1", 20, 5));
        var first = router.ReadPredictions(20, s_patience);

        // Version 2 takes the same four features in another order: scored by the old order, every value would land in
        // the wrong column.
        host.Serve("2", ["f1", "f0", "f2", "f3"]);
        router.Produce(RouterTestHost.Records("v2", 20, 5));
        var refused = router.ReadDeadLetters(20, s_patience);

        // Version 3 is the first signature again: its answers are used.
        host.Serve("3", s_names);
        router.Produce(RouterTestHost.Records("v3", 20, 5));
        var after = router.ReadPredictions(40, s_patience);

        Assert.All(first, p => Assert.Equal("1", p.ModelVersion));
        Assert.Equal(20, refused.Select(d => FeatureRecord.Parser.ParseFrom(d.Value).RequestId).Where(id => id.StartsWith("v2-", StringComparison.Ordinal)).Distinct().Count());
        Assert.All(refused, d => Assert.Contains("now serves version 2, which does not match the arm's contract: its features are now [f1, f0, f2, f3], where the arm started with [f0, f1, f2, f3]", d.ErrorMessage, StringComparison.Ordinal));
        var v3 = after.Where(p => p.RequestId.StartsWith("v3-", StringComparison.Ordinal)).ToList();
        Assert.Equal(20, v3.Select(p => p.RequestId).Distinct().Count());
        Assert.All(v3, p => Assert.Equal("3", p.ModelVersion));
        Assert.DoesNotContain(after, p => p.RequestId.StartsWith("v2-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Router_HostWhoseMetadataTakesNoVersion_NewVersionWithTheSameSignatureIsUsed()
    {
        await using var host = await FakeModelHost.StartAsync();
        host.Serve("1", s_names);
        host.VersionedMetadata = false;
        await using var router = await RouterTestHost.StartAsync(cluster, Spec("swap-unversioned", host.Endpoint));

        router.Produce(RouterTestHost.Records("a", 10, 5));
        router.ReadPredictions(10, s_patience);
        // The server names version 2 in its answers but answers metadata only for the version it serves by default.
        host.Serve("2", s_names);
        router.Produce(RouterTestHost.Records("b", 10, 5));
        var predictions = router.ReadPredictions(20, s_patience);

        Assert.Equal(10, predictions.Where(p => p.RequestId.StartsWith("b-", StringComparison.Ordinal) && p.ModelVersion == "2").Select(p => p.RequestId).Distinct().Count());
    }

    /// <summary>One arm on the swappable model, under an experiment whose feature contract is f0..f3.</summary>
    private static string Spec(string experiment, string endpoint) => $"""
        experiments:
          - name: {experiment}
            strategy: ab
            features: [f0, f1, f2, f3]
            arms:
              - name: latest
                weight: 1
                endpoint: {endpoint}
                model: {FakeModelHost.SwappableModel}
        """;
}
