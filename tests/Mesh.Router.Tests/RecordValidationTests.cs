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

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public async Task Handle_NonFiniteFeature_DeadLetteredNamingTheFeatureWhileFiniteRecordsArePredicted(float bad, string described)
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: finite-only
                strategy: ab
                arms:
                  - name: only
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-only
            """);
        var records = RouterTestHost.Records("nf", 4, entities: 2);
        records[1].Values[2] = bad;
        records[1].Names.Add(["sepal_length", "sepal_width", "petal_length", "petal_width"]);
        records[3].Values[0] = bad;
        router.Produce(records);

        var predictions = router.ReadPredictions(2, s_patience);
        var letters = router.ReadDeadLetters(2, s_patience);

        Assert.Equal(["nf-0", "nf-2"], predictions.Select(p => p.RequestId).Order());
        Assert.Equal(2, letters.Count);
        var byRequest = letters.ToDictionary(l => FeatureRecord.Parser.ParseFrom(l.Value).RequestId);
        Assert.Contains($"feature 2 ('petal_length') is {described}", byRequest["nf-1"].ErrorMessage, StringComparison.Ordinal);
        Assert.Contains($"feature 0 is {described}", byRequest["nf-3"].ErrorMessage, StringComparison.Ordinal);
        Assert.All(letters, l => Assert.Equal(("finite-only", "only", ErrorClass.Validation), (l.Experiment, l.Arm, l.ErrorClass)));
    }

    [Fact]
    public async Task Handle_NonFiniteFeatureForAnArmThatAcceptsThem_IsPredicted()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, $"""
            experiments:
              - name: takes-nan
                strategy: ab
                arms:
                  - name: tolerant
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-tolerant
                    acceptNonFinite: true
              - name: whole-experiment
                strategy: ab
                acceptNonFinite: true
                arms:
                  - name: also
                    weight: 1
                    endpoint: {modelHost.Endpoint}
                    model: model-also
            """);
        var records = RouterTestHost.Records("nan-ok", 3, entities: 3);
        records[1].Values[1] = float.NaN;
        router.Produce(records);

        var predictions = router.ReadPredictions(6, s_patience);

        Assert.Equal(6, predictions.Count);
        Assert.Equal(2, predictions.Count(p => p.RequestId == "nan-ok-1"));
        Assert.Empty(router.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }
}
