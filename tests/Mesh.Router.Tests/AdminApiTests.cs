namespace Mesh.Router.Tests;

/// <summary>The admin API and hot reload, on a running router.</summary>
public sealed class AdminApiTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    private const int Entities = 60;
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    private static string Spec(string endpoint, double weightA, double weightB) => Specs.TwoArmAb("admin-ab", endpoint, weightA, weightB, ("1", "1"));

    [Fact]
    public async Task AdminApi_NoOrWrongToken_RefusedOverHttpAndGrpc()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));

        using var anonymous = router.CreateHttpClient(token: null);
        using var wrong = router.CreateHttpClient(token: "not-the-router-admin-token-at-all");
        using var admin = router.CreateHttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/admin/experiments")).StatusCode);
        var weightsBody = new StringContent("""{"weights":{"a":1}}""", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsync("/admin/experiments/admin-ab/weights", weightsBody)).StatusCode);
        var listed = await admin.GetAsync("/admin/experiments");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains("admin-ab", await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var channel = GrpcChannel.ForAddress(router.GrpcAddress);
        var client = new RouterAdmin.RouterAdminClient(channel);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.ListExperimentsAsync(new ListExperimentsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        var wrongToken = await Assert.ThrowsAsync<RpcException>(async () => await client.SetWeightsAsync(
            new SetWeightsRequest { Experiment = "admin-ab", Weights = { ["a"] = 1 } },
            new Metadata { { "authorization", "Bearer not-the-router-admin-token-at-all" } }));
        Assert.Equal(StatusCode.Unauthenticated, wrongToken.StatusCode);

        // The refused change did not happen.
        var status = await client.GetExperimentAsync(new GetExperimentRequest { Experiment = "admin-ab" }, Authorized());
        Assert.Equal([50.0, 50.0], status.Arms.Select(a => a.Weight));
    }

    [Fact]
    public async Task SetWeights_OverGrpc_TakesEffectWithoutRestartAndMovesOnlyEntitiesWhoseBucketChangedHands()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));
        router.Produce(RouterTestHost.Records("before", 120, Entities));
        var before = router.ReadPredictions(120, s_patience);
        Assert.Equal(120, before.Count);

        using var channel = GrpcChannel.ForAddress(router.GrpcAddress);
        var client = new RouterAdmin.RouterAdminClient(channel);
        var changed = await client.SetWeightsAsync(new SetWeightsRequest { Experiment = "admin-ab", Weights = { ["a"] = 90, ["b"] = 10 } }, Authorized());
        Assert.Equal([90.0, 10.0], changed.Arms.Select(a => a.Weight));
        Assert.Equal(0.9, changed.Arms[0].Probability, 12);

        router.Produce(RouterTestHost.Records("after", 120, Entities));
        var after = router.ReadPredictions(240, s_patience).Where(p => p.RequestId.StartsWith("after-", StringComparison.Ordinal)).ToList();

        Assert.Equal(120, after.Count);
        Assert.All(after, p => Assert.Equal(changed.PolicyVersion, p.PolicyVersion));
        Assert.All(after, p => Assert.Equal(p.Arm == "a" ? 0.9 : 0.1, p.AssignmentProbability, 12));
        Assert.All(before, p => Assert.NotEqual(changed.PolicyVersion, p.PolicyVersion));
        // The configured weight in the Prediction's context follows the change too (the metrics sink's run param).
        Assert.All(before, p => Assert.Equal("50", p.Context["mesh.weight"]));
        Assert.All(after, p => Assert.Equal(p.Arm == "a" ? "90" : "10", p.Context["mesh.weight"]));
        // Each entity is where the new bucket ranges put it; entities on 'a' stayed on 'a'.
        var assigner = new ArmAssigner("admin-ab", [90, 10]);
        Assert.All(after, p => Assert.Equal(assigner.Assign(p.EntityId) == 0 ? "a" : "b", p.Arm));
        var armBefore = before.GroupBy(p => p.EntityId).ToDictionary(g => g.Key, g => Assert.Single(g.Select(p => p.Arm).Distinct()));
        Assert.All(after.Where(p => armBefore[p.EntityId] == "a"), p => Assert.Equal("a", p.Arm));
        Assert.Contains(after, p => armBefore[p.EntityId] == "b" && p.Arm == "a");
    }

    [Fact]
    public async Task SetWeights_OverHttpJson_ChangesWeightsAndRejectsUnknownArms()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));
        using var admin = router.CreateHttpClient();

        var response = await admin.PutAsync("/admin/experiments/admin-ab/weights", new StringContent("""{"weights":{"b":75}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal([50.0, 75.0], json.RootElement.GetProperty("arms").EnumerateArray().Select(a => a.GetProperty("weight").GetDouble()));

        var unknown = await admin.PutAsync("/admin/experiments/admin-ab/weights", new StringContent("""{"weights":{"c":10}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        var negative = await admin.PutAsync("/admin/experiments/admin-ab/weights", new StringContent("""{"weights":{"a":-1}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/experiments/nope")).StatusCode);

        var current = await admin.GetStringAsync("/admin/experiments/admin-ab");
        using var currentJson = JsonDocument.Parse(current);
        Assert.Equal([50.0, 75.0], currentJson.RootElement.GetProperty("arms").EnumerateArray().Select(a => a.GetProperty("weight").GetDouble()));
    }

    [Fact]
    public async Task ExperimentFile_Rewritten_NewWeightsApplyWithoutRestartAndABrokenFileKeepsThem()
    {
        await using var modelHost = await FakeModelHost.StartAsync();
        await using var router = await RouterTestHost.StartAsync(cluster, Spec(modelHost.Endpoint, 50, 50));
        using var admin = router.CreateHttpClient();
        var original = await PolicyVersionAsync(admin);

        await File.WriteAllTextAsync(router.ExperimentFile, Spec(modelHost.Endpoint, 20, 80));
        var reloaded = await WaitForPolicyChangeAsync(admin, original);

        router.Produce(RouterTestHost.Records("reloaded", 100, Entities));
        var predictions = router.ReadPredictions(100, s_patience);
        Assert.Equal(100, predictions.Count);
        var assigner = new ArmAssigner("admin-ab", [20, 80]);
        Assert.All(predictions, p => Assert.Equal(reloaded, p.PolicyVersion));
        Assert.All(predictions, p => Assert.Equal(assigner.Assign(p.EntityId) == 0 ? "a" : "b", p.Arm));

        // A file that does not validate is not applied; the explicit reload says why.
        await File.WriteAllTextAsync(router.ExperimentFile, Spec(modelHost.Endpoint, 0, 80));
        var reload = await admin.PostAsync("/admin/reload", null);
        Assert.Equal(HttpStatusCode.Conflict, reload.StatusCode);
        Assert.Contains("experiments[0].arms[0].weight", await reload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(reloaded, await PolicyVersionAsync(admin));
    }

    private static Metadata Authorized() => new() { { "authorization", "Bearer " + RouterTestHost.AdminToken } };

    private static async Task<string> PolicyVersionAsync(HttpClient admin)
    {
        using var json = JsonDocument.Parse(await admin.GetStringAsync("/admin/experiments/admin-ab"));
        return json.RootElement.GetProperty("policyVersion").GetString()!;
    }

    private static async Task<string> WaitForPolicyChangeAsync(HttpClient admin, string original)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (DateTime.UtcNow < deadline)
        {
            var current = await PolicyVersionAsync(admin);
            if (current != original)
            {
                return current;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The router did not apply the rewritten experiment file.");
    }
}
