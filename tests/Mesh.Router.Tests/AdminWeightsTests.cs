namespace Mesh.Router.Tests;

/// <summary>Live weight changes through the admin API: bad bodies, switching an arm off, and surviving a reload.</summary>
public sealed class AdminWeightsTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    private static string Spec(string endpoint, double weightA, double weightB) => Specs.TwoArmAb("weights-ab", endpoint, weightA, weightB);

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<double[]> WeightsAsync(HttpContent content)
    {
        using var json = JsonDocument.Parse(await content.ReadAsStringAsync());
        var root = json.RootElement.TryGetProperty("experiments", out var experiments) ? experiments[0] : json.RootElement;
        return root.GetProperty("arms").EnumerateArray().Select(a => a.GetProperty("weight").GetDouble()).ToArray();
    }

    [Fact]
    public async Task SetWeights_MalformedJson_AnswersBadRequestNamingTheProblem()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));
        using var admin = router.CreateHttpClient();

        var response = await admin.PutAsync("/admin/experiments/weights-ab/weights", Body("""{"weights": {"a": 10,"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("not valid JSON", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetWeights_ZeroForOneArm_SwitchesItOffButNotEveryArm()
    {
        const int Count = 60;
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));
        using var admin = router.CreateHttpClient();

        var off = await admin.PutAsync("/admin/experiments/weights-ab/weights", Body("""{"weights":{"a":0}}"""));
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        var offWeights = await WeightsAsync(off.Content);
        Assert.Equal([0.0, 50.0], offWeights);

        var allOff = await admin.PutAsync("/admin/experiments/weights-ab/weights", Body("""{"weights":{"b":0}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, allOff.StatusCode);
        Assert.Contains("at least one arm", await allOff.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        router.Produce(RouterTestHost.Records("off", Count, entities: Count));
        var predictions = router.ReadPredictions(Count, s_patience);
        Assert.Equal(Count, predictions.Count);
        Assert.All(predictions, p => Assert.Equal("b", p.Arm));
    }

    [Fact]
    public async Task Reload_FileWeightUnchanged_KeepsTheApiWeightAndSaysSoButAChangedFileWeightWins()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));
        using var admin = router.CreateHttpClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/experiments/weights-ab/weights", Body("""{"weights":{"a":90}}"""))).StatusCode);

        var reload = await admin.PostAsync("/admin/reload", null);

        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        var text = await reload.Content.ReadAsStringAsync();
        using (var json = JsonDocument.Parse(text))
        {
            Assert.Equal(["weights-ab/a=90"], json.RootElement.GetProperty("keptWeightOverrides").EnumerateArray().Select(e => e.GetString()));
        }

        var reloadWeights = await WeightsAsync(reload.Content);
        Assert.Equal([90.0, 50.0], reloadWeights);

        // The file now says something new about arm a: that decision is newer than the API's.
        await File.WriteAllTextAsync(router.ExperimentFile, Spec(modelHost.Endpoint, 30, 50));
        var second = await admin.PostAsync("/admin/reload", null);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using (var json = JsonDocument.Parse(await second.Content.ReadAsStringAsync()))
        {
            Assert.Empty(json.RootElement.GetProperty("keptWeightOverrides").EnumerateArray());
        }

        var secondWeights = await WeightsAsync(second.Content);
        Assert.Equal([30.0, 50.0], secondWeights);
    }
}
