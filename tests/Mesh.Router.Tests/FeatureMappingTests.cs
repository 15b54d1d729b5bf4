namespace Mesh.Router.Tests;

/// <summary>
/// Records mapped to the model's columns by the names they carry (never silently by position), and models checked
/// against the experiment's feature contract, with the real router and a model server that names its features.
/// </summary>
public sealed class FeatureMappingTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Router_RecordsWithNamesInAnotherOrder_ScoredAsTheModelsOwnPredictions()
    {
        await using var server = await PythonOipServer.StartAsync("bytes", named: true);
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(server.Endpoint, "featureSet: iris"));
        var reversed = PythonOipServer.FeatureNames.Reverse().ToArray();
        var records = new List<FeatureRecord>();
        for (var i = 0; i < server.Rows.Length; i++)
        {
            var row = server.Rows[i];
            // The model's order without names; reversed with names (scored by position, most labels would be wrong);
            // and with one more feature than the model takes, first.
            records.Add(Record($"plain-{i}", row, [], "iris"));
            records.Add(Record($"reversed-{i}", [.. row.Reverse()], reversed, ""));
            records.Add(Record($"superset-{i}", [42f, .. row], ["colour", .. PythonOipServer.FeatureNames], "iris"));
        }

        var lacking = Record("lacking", server.Rows[0], ["sepal_length", "sepal_width", "petal_length", "colour"], "iris");
        var otherSet = Record("other-set", server.Rows[0], [], "wine");

        router.Produce([.. records, lacking, otherSet]);
        var predictions = router.ReadPredictions(records.Count, s_patience);
        var deadLetters = router.ReadDeadLetters(2, s_patience);

        Assert.Equal(records.Count, predictions.Select(p => p.RequestId).Distinct().Count());
        Assert.All(predictions, p => Assert.Equal(server.Classes[server.Predicted[int.Parse(p.RequestId.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture)]], p.Output.Label));
        Assert.Equal(["lacking", "other-set"], deadLetters.Select(d => FeatureRecord.Parser.ParseFrom(d.Value).RequestId).Order());
        Assert.Contains("lack feature 'petal_width'", deadLetters.Single(d => FeatureRecord.Parser.ParseFrom(d.Value).RequestId == "lacking").ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("feature_set is 'wine'", deadLetters.Single(d => FeatureRecord.Parser.ParseFrom(d.Value).RequestId == "other-set").ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Router_UnknownNamesByPosition_ScoresAFittingRecordByPosition()
    {
        await using var server = await PythonOipServer.StartAsync("bytes", named: true);
        await using var router = await RouterTestHost.StartAsync(
            cluster,
            Spec(server.Endpoint, ""),
            new Dictionary<string, string?> { ["Router:Features:UnknownNames"] = "by-position" });

        router.Produce([Record("renamed", server.Rows[100], ["a", "b", "c", "d"], "")]);
        var prediction = Assert.Single(router.ReadPredictions(1, s_patience));

        Assert.Equal(server.Classes[server.Predicted[100]], prediction.Output.Label);
    }

    [Fact]
    public async Task Reload_ModelAgainstAnotherFeatureContract_RefusedNamingTheMissingAndTheExtraFeature()
    {
        await using var server = await PythonOipServer.StartAsync("bytes", named: true);
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(server.Endpoint, "features: [sepal_length, sepal_width, petal_length, petal_width]"));

        var missing = await router.ReloadAsync(Spec(server.Endpoint, "features: [sepal_length, sepal_width, petal_length]"));
        var extra = await router.ReloadAsync(Spec(server.Endpoint, "features: [sepal_length, sepal_width, petal_length, petal_width, colour]"));

        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (missing.Status, extra.Status));
        Assert.Contains("takes feature 'petal_width'", missing.Body, StringComparison.Ordinal);
        Assert.Contains("does not take the experiment's feature 'colour'", extra.Body, StringComparison.Ordinal);
    }

    private static string Spec(string endpoint, string experimentKeys) => $"""
        experiments:
          - name: named
            strategy: ab
            {experimentKeys}
            arms:
              - name: sklearn
                weight: 1
                endpoint: {endpoint}
                model: {PythonOipServer.Model}
                version: "1"
        """;

    private static FeatureRecord Record(string id, float[] values, string[] names, string featureSet) => new()
    {
        RequestId = id,
        EntityId = id,
        EventTime = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
        FeatureSet = featureSet,
        Values = { values },
        Names = { names },
    };
}
