using Mesh.Contracts.V1;
using Mesh.Router.Routing;
using Mesh.Testing;

namespace Mesh.Router.Tests;

/// <summary>What the router refuses in a record, and for which experiments.</summary>
public sealed class RecordValidationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Handle_FeatureCountWrongForOneExperiment_OtherExperimentsStillPredictTheRecord()
    {
        const int Count = 12;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: narrow
                strategy: ab
                arms:
                  - name: only
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-narrow
              - name: wide
                strategy: ab
                arms:
                  - name: w
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: {FakeModelHost.WideModel}
            """);
        router.Produce(RouterTestHost.Records("mixed", Count, entities: 4));

        var predictions = router.ReadPredictions(Count, s_patience);
        var letters = router.ReadDeadLetters(Count, s_patience);

        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"mixed-{i}").Order(), predictions.Select(p => p.RequestId).Order());
        Assert.All(predictions, p => Assert.Equal("narrow", p.Experiment));
        Assert.Equal(Count, letters.Count);
        Assert.All(letters, l =>
        {
            Assert.Equal(("wide", "w", ErrorClass.Validation), (l.Experiment, l.Arm, l.ErrorClass));
            Assert.Contains($"has {FakeModelHost.FeatureWidth} feature values", l.ErrorMessage, StringComparison.Ordinal);
            Assert.Contains($"takes {FakeModelHost.WideFeatureWidth}", l.ErrorMessage, StringComparison.Ordinal);
        });
    }
}
