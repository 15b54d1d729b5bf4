namespace Mesh.Router.Tests;

/// <summary>
/// The real router on the embedded broker with an arm's <c>postProcess:</c>: every Prediction written carries the
/// threshold's label, the top-k scores and the mapped class names; a class the model lacks is refused when the arm starts.
/// </summary>
public sealed class PostProcessRoutingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Router_ArmWithPostProcess_PredictionsCarryThePostProcessedOutput()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, "{threshold: {class: large, score: 0.5, otherwise: not-large}, topK: 1, labels: {large: L}}"));
        var records = RouterTestHost.Records("post", 20, 5);

        router.Produce(records);
        var predictions = router.ReadPredictions(records.Count, s_patience);

        Assert.Equal(records.Count, predictions.Count);
        var large = records.ToDictionary(r => r.RequestId, r => FakeModelHost.Classify(r.Values[0]) == "large");
        Assert.Contains(predictions, p => large[p.RequestId]);
        Assert.Contains(predictions, p => !large[p.RequestId]);
        Assert.All(predictions, p => Assert.Equal(
            large[p.RequestId] ? ("L", "L", 1f) : ("not-large", "small", 1f),
            (p.Output.Label, Assert.Single(p.Output.ClassNames), Assert.Single(p.Output.Scores))));
    }

    [Fact]
    public async Task Reload_ThresholdOnAClassTheModelLacks_RefusedNamingTheClass()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, "{topK: 1}"));

        await router.AssertReloadRefusedAsync(
            Spec(modelHost.Endpoint, "{threshold: {class: medium, score: 0.5}}"),
            "arm 'a'",
            "postProcess.threshold.class 'medium' is not a class of the model (classes: large, small)");
    }

    private static string Spec(string endpoint, string postProcess) => $"""
        experiments:
          - name: post
            strategy: ab
            arms:
              - name: a
                weight: 1
                endpoint: {endpoint}
                model: model-a
                version: "1"
                classes: [large, small]
                postProcess: {postProcess}
        """;
}
