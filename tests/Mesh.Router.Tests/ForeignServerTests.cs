namespace Mesh.Router.Tests;

/// <summary>
/// A model server the router did not write (Python grpcio from KServe's proto, a scikit-learn model) as the arm of an
/// experiment run by the real router on the embedded broker: every label must be the server's own prediction, in each
/// output shape scikit-learn runtimes answer with.
/// </summary>
public sealed class ForeignServerTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(90);

    [Theory]
    // BYTES label: the class name itself; no class names anywhere, the scores still come through.
    [InlineData("bytes", "", true, 3, "label,probabilities")]
    // INT64 label and FP64 probabilities under skl2onnx's names, named in the spec; class names from the spec.
    [InlineData("int64-fp64", "outputs: {label: output_label, scores: output_probability}\n        classes: [setosa, versicolor, virginica]", true, 3, "output_label,output_probability")]
    // FP64 probabilities alone: the label is the best class.
    [InlineData("fp64", "classes: [setosa, versicolor, virginica]", true, 3, "predict_proba")]
    // INT64 label alone and no class names: the label is the class index as text, not a dead letter.
    [InlineData("int64", "", false, 0, "label")]
    public async Task Router_ForeignSklearnServer_EveryLabelIsTheServersOwnPrediction(string mode, string armKeys, bool named, int scores, string requested)
    {
        await using var server = await PythonOipServer.StartAsync(mode);
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(server.Endpoint, armKeys));
        var records = Records(server);

        router.Produce(records);
        var predictions = router.ReadPredictions(records.Count, s_patience);

        Assert.Equal(records.Count, predictions.Count);
        var expected = records.Select((r, i) => (r.RequestId, named ? server.Classes[server.Predicted[i]] : server.Predicted[i].ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToDictionary(e => e.RequestId, e => e.Item2);
        Assert.All(predictions, p => Assert.Equal(expected[p.RequestId], p.Output.Label));
        Assert.Equal(records.Count, predictions.Select(p => p.RequestId).Distinct().Count());
        Assert.All(predictions, p => Assert.Equal(scores, p.Output.Scores.Count));
        // Only the contract's outputs were asked for, in every call.
        Assert.Equal([requested], server.RequestedOutputs.Distinct());
    }

    [Fact]
    public async Task Reload_ArmNamesAnOutputTheServerLacks_RefusedNamingTheOutput()
    {
        await using var server = await PythonOipServer.StartAsync("int64");
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(server.Endpoint, ""));

        await router.AssertReloadRefusedAsync(Spec(server.Endpoint, "outputs: {label: output_label}"), "has no output 'output_label'", "'label' INT64");
    }

    private static string Spec(string endpoint, string armKeys) => $"""
        experiments:
          - name: foreign
            strategy: ab
            arms:
              - name: sklearn
                weight: 1
                endpoint: {endpoint}
                model: {PythonOipServer.Model}
                version: "1"
                {armKeys}
        """;

    private static List<FeatureRecord> Records(PythonOipServer server) =>
        [.. server.Rows.Select((row, i) => new FeatureRecord
        {
            RequestId = $"iris-{i}",
            EntityId = $"flower-{i}",
            EventTime = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
            Values = { row },
        })];
}
