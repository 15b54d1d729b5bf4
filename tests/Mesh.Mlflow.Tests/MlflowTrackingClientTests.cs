namespace Mesh.Mlflow.Tests;

/// <summary>The tracking calls against a server answering as MLflow's REST API documentation specifies.</summary>
public sealed class MlflowTrackingClientTests() : FakeMlflowTests<FakeMlflowTrackingServer>(FakeMlflowTrackingServer.StartAsync)
{
    [Fact]
    public async Task GetOrCreateExperimentAsync_MissingThenPresent_CreatesOnceAndFindsByName()
    {
        var client = Client();

        var created = await client.GetOrCreateExperimentAsync("iris-ab");
        var found = await client.GetOrCreateExperimentAsync("iris-ab");

        Assert.Equal(created, found);
        Assert.Equal(Server.ExperimentId("iris-ab"), created);
        var create = Assert.Single(Server.Bodies("/api/2.0/mlflow/experiments/create"));
        Assert.Equal("iris-ab", (string?)create!["name"]);
        Assert.All(Server.Requests.Where(r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal)), r => Assert.Equal("?experiment_name=iris-ab", r.Query));
    }

    [Fact]
    public async Task CreateUpdateGetRun_RequestShapes_AsTheRestApiSpecifies()
    {
        var client = Client();
        var experiment = await client.GetOrCreateExperimentAsync("e");

        var info = await client.CreateRunAsync(experiment, "e/arm-a", [new("mesh.arm", "arm-a")]);
        await client.SetTagAsync(info.RunId, "note", "hello");
        await client.UpdateRunAsync(info.RunId, MlflowRunStatus.Finished, 1_764_250_000_000);
        var run = await client.GetRunAsync(info.RunId);

        var create = Assert.Single(Server.Bodies("/api/2.0/mlflow/runs/create"))!;
        Assert.Equal(experiment, (string?)create["experiment_id"]);
        Assert.Equal("e/arm-a", (string?)create["run_name"]);
        Assert.True((long)create["start_time"]! > 0);
        Assert.Equal("mesh.arm", (string?)create["tags"]![0]!["key"]);
        var update = Assert.Single(Server.Bodies("/api/2.0/mlflow/runs/update"))!;
        Assert.Equal("FINISHED", (string?)update["status"]);
        Assert.Equal(1_764_250_000_000, (long)update["end_time"]!);
        Assert.Equal("FINISHED", run.Info.Status);
        Assert.Equal("hello", run.Tag("note"));
        Assert.Equal("arm-a", run.Tag("mesh.arm"));
    }

    [Fact]
    public async Task LogBatchAsync_MoreThanOneRequestHolds_SplitsAtMlflowLimitsKeepingOrder()
    {
        var client = Client();
        var run = await client.CreateRunAsync(await client.GetOrCreateExperimentAsync("e"), "r", []);
        var metrics = Enumerable.Range(0, 2500).Select(i => new MlflowMetric("m", i, 1000 + i, i)).ToList();
        var parameters = Enumerable.Range(0, 150).Select(i => new MlflowKeyValue($"p{i}", $"{i}")).ToList();
        var tags = Enumerable.Range(0, 230).Select(i => new MlflowKeyValue($"t{i}", $"{i}")).ToList();

        await client.LogBatchAsync(run.RunId, metrics, parameters, tags);

        var bodies = Server.Bodies("/api/2.0/mlflow/runs/log-batch");
        Assert.All(bodies, b =>
        {
            var (m, p, t) = (b!["metrics"]!.AsArray().Count, b["params"]!.AsArray().Count, b["tags"]!.AsArray().Count);
            Assert.InRange(m, 0, 1000);
            Assert.InRange(p, 0, 100);
            Assert.InRange(t, 0, 100);
            Assert.InRange(m + p + t, 1, 1000);
            Assert.Equal(run.RunId, (string?)b["run_id"]);
        });
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (double)i), bodies.SelectMany(b => b!["metrics"]!.AsArray()).Select(m => (double)m!["value"]!));
        Assert.Equal(150, bodies.Sum(b => b!["params"]!.AsArray().Count));
        Assert.Equal(230, bodies.Sum(b => b!["tags"]!.AsArray().Count));
        Assert.Equal(0, (long)bodies[0]!["metrics"]![0]!["step"]!);
        Assert.Equal(1000, (long)bodies[0]!["metrics"]![0]!["timestamp"]!);
    }

    [Fact]
    public async Task GetMetricHistoryAsync_Always_SendsMaxResults()
    {
        var client = Client();
        var run = await client.CreateRunAsync(await client.GetOrCreateExperimentAsync("e"), "r", []);
        await client.LogBatchAsync(run.RunId, [new("accuracy", 0.5, 1, 0), new("accuracy", 0.75, 2, 1)], [], []);

        var history = await client.GetMetricHistoryAsync(run.RunId, "accuracy");

        Assert.Equal([0.5, 0.75], history.Metrics.Select(m => m.Value));
        Assert.Equal([0L, 1L], history.Metrics.Select(m => m.Step));
        var query = Server.Requests.Single(r => r.Path.EndsWith("get-history", StringComparison.Ordinal)).Query;
        Assert.Contains("max_results=25000", query, StringComparison.Ordinal);
        Assert.Contains("metric_key=accuracy", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SearchRunsAsync_TagFilter_SendsExperimentIdsFilterAndMaxResults()
    {
        var client = Client();
        var experiment = await client.GetOrCreateExperimentAsync("e");
        var a = await client.CreateRunAsync(experiment, "a", [new("mesh.arm", "a")]);
        await client.CreateRunAsync(experiment, "b", [new("mesh.arm", "b")]);

        var page = await client.SearchRunsAsync([experiment], "tags.`mesh.arm` = 'a'", 10);

        Assert.Equal(a.RunId, Assert.Single(page.Runs).Info.RunId);
        var body = Assert.Single(Server.Bodies("/api/2.0/mlflow/runs/search"))!;
        Assert.Equal(experiment, (string?)body["experiment_ids"]![0]);
        Assert.Equal(10, (int)body["max_results"]!);
        Assert.Equal("tags.`mesh.arm` = 'a'", (string?)body["filter"]);
    }

    [Fact]
    public async Task Calls_429And503ThenSuccess_AreRetried()
    {
        var client = Client(maxRetries: 3);
        Server.FailNext(1, 429);
        Server.FailNext(1, 503);

        var id = await client.GetOrCreateExperimentAsync("e");

        Assert.Equal(Server.ExperimentId("e"), id);
        Assert.Equal(2, Server.Requests.Count(r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal)) - 1);
    }

    [Fact]
    public async Task Calls_MlflowErrorCodes_SurfaceAsTypedErrors()
    {
        var client = Client();
        var run = await client.CreateRunAsync(await client.GetOrCreateExperimentAsync("e"), "r", []);
        await client.LogBatchAsync(run.RunId, [], [new("model", "v1")], []);

        await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => client.GetRunAsync("missing"));
        var changed = await Assert.ThrowsAsync<MlflowInvalidParameterException>(() => client.LogBatchAsync(run.RunId, [], [new("model", "v2")], []));
        Assert.Equal(MlflowErrorCodes.InvalidParameterValue, changed.ErrorCode);
        Server.FailNext(1, 503);
        var down = await Assert.ThrowsAsync<MlflowException>(() => Client(maxRetries: 0).GetRunAsync(run.RunId));
        Assert.Equal(MlflowErrorCodes.TemporarilyUnavailable, down.ErrorCode);
    }

    [Fact]
    public async Task SetModelAliasAsync_AndVersionTag_PostAsTheRegistryApiSpecifies()
    {
        var client = Client();

        await client.SetModelAliasAsync("iris", "champion", "3");
        await client.SetModelVersionTagAsync("iris", "3", "mesh.promoted_by", "metrics-sink");

        Assert.Equal("3", Server.Aliases[("iris", "champion")]);
        Assert.Equal("metrics-sink", Server.VersionTags[("iris", "3", "mesh.promoted_by")]);
    }

    private MlflowTrackingClient Client(int maxRetries = 2) => Tracking(maxRetries);
}
