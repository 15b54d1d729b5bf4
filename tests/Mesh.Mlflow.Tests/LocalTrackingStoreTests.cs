namespace Mesh.Mlflow.Tests;

/// <summary>The local tracking folder: the same calls as MLflow, written in MLflow's file-store layout.</summary>
public sealed class LocalTrackingStoreTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mesh-local-tracking-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task Calls_WriteReadableFilesInMlflowFileStoreLayout()
    {
        var store = new LocalTrackingStore(_folder);

        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var run = await store.CreateRunAsync(experiment, "iris-ab/logreg", [new("mesh.arm", "logreg")]);
        await store.LogBatchAsync(run.RunId, [new("accuracy", 0.5, 1000, 0), new("accuracy", 0.75, 2000, 1)], [new("model_name", "iris-logreg")], [new("mesh.verdict", "no difference yet")]);
        await store.UpdateRunAsync(run.RunId, MlflowRunStatus.Finished, 3000);

        var runFolder = Path.Combine(_folder, "mlruns", experiment, run.RunId);
        Assert.Equal("1000 0.5 0\n2000 0.75 1\n", await File.ReadAllTextAsync(Path.Combine(runFolder, "metrics", "accuracy")));
        Assert.Equal("iris-logreg", await File.ReadAllTextAsync(Path.Combine(runFolder, "params", "model_name")));
        Assert.Equal("logreg", await File.ReadAllTextAsync(Path.Combine(runFolder, "tags", "mesh.arm")));
        Assert.Contains("status: 3", await File.ReadAllTextAsync(Path.Combine(runFolder, "meta.yaml")), StringComparison.Ordinal);
        Assert.Contains("name: 'iris-ab'", await File.ReadAllTextAsync(Path.Combine(_folder, "mlruns", experiment, "meta.yaml")), StringComparison.Ordinal);
        Assert.Contains("mlflow ui --backend-store-uri", await File.ReadAllTextAsync(Path.Combine(_folder, LocalTrackingStore.ReadmeFileName)), StringComparison.Ordinal);
        var read = await store.GetRunAsync(run.RunId);
        Assert.Equal(0.75, read.Data.Metrics!.Single(m => m.Key == "accuracy").Value);
        Assert.Equal(MlflowRunStatus.Finished, read.Info.Status);
        Assert.Equal("iris-ab/logreg", read.Info.RunName);
    }

    [Fact]
    public async Task GetOrCreateExperimentAsync_ReopenedFolder_FindsExperimentAndRunByTag()
    {
        var first = new LocalTrackingStore(_folder);
        var id = await first.GetOrCreateExperimentAsync("iris-ab");
        var run = await first.CreateRunAsync(id, "r", [new(TrackingWriter.RunKeyTag, "iris-ab/a/1")]);
        await first.CreateRunAsync(id, "s", [new(TrackingWriter.RunKeyTag, "iris-ab/b/1")]);

        var second = new LocalTrackingStore(_folder);
        var again = await second.GetOrCreateExperimentAsync("iris-ab");
        var other = await second.GetOrCreateExperimentAsync("other");
        var found = await second.SearchRunsAsync([again], "tags.`mesh.run_key` = 'iris-ab/a/1'", 10);

        Assert.Equal(id, again);
        Assert.NotEqual(id, other);
        Assert.Equal(run.RunId, Assert.Single(found.Runs).Info.RunId);
    }

    [Fact]
    public async Task TrackingWriter_StartIdOverLocalStore_EndsOwnRunsFinishedAndAnEarlierStartsKilled()
    {
        var store = new LocalTrackingStore(_folder);
        var record = new TrackingRecord("iris-ab", "iris-ab/a/1", "a", [], [], [new("accuracy", 1, 1000, 0)]);
        // The first start dies: its writer is never completed. The second is the same instance (the pod restarted), so
        // it knows the first is dead without waiting for its heartbeat to go stale.
        var died = new TrackingWriter(store, new TrackingWriterOptions { StartId = "one", InstanceId = "sink-0" });
        died.TryEnqueue(record);
        await died.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        await using (var second = new TrackingWriter(store, new TrackingWriterOptions { StartId = "two", InstanceId = "sink-0" }))
        {
            second.TryEnqueue(record);
            await second.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        }

        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var runs = (await store.SearchRunsAsync([experiment], null, 10)).Runs;
        Assert.Equal(MlflowRunStatus.Killed, runs.Single(r => r.Tag(TrackingWriter.StartIdTag) == "one").Info.Status);
        Assert.Equal(MlflowRunStatus.Finished, runs.Single(r => r.Tag(TrackingWriter.StartIdTag) == "two").Info.Status);
        Assert.Empty((await store.SearchRunsAsync([experiment], "attributes.status = 'RUNNING'", 10)).Runs);
    }

    [Fact]
    public async Task LogBatchAsync_ChangedParamOrUnsafeKey_IsRefusedAsMlflowWould()
    {
        var store = new LocalTrackingStore(_folder);
        var run = await store.CreateRunAsync(await store.GetOrCreateExperimentAsync("e"), "r", []);
        await store.LogBatchAsync(run.RunId, [], [new("p", "1")], []);

        await Assert.ThrowsAsync<MlflowInvalidParameterException>(() => store.LogBatchAsync(run.RunId, [], [new("p", "2")], []));
        await Assert.ThrowsAsync<MlflowInvalidParameterException>(() => store.SetTagAsync(run.RunId, "../../escape", "x"));
        await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => store.GetRunAsync("missing"));
    }

    [Fact]
    public async Task TrackingWriter_OverLocalStore_WritesMetricHistoryWithWindowSteps()
    {
        var store = new LocalTrackingStore(_folder);
        await using (var writer = new TrackingWriter(store))
        {
            for (var step = 0; step < 3; step++)
            {
                writer.TryEnqueue(new TrackingRecord("iris-ab", "iris-ab/a/1", "iris-ab/a", [new("model_name", "m")], [], [new("count", step * 10, 1000 + step, step)]));
            }

            await writer.FlushAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        }

        var experiment = await store.GetOrCreateExperimentAsync("iris-ab");
        var run = Assert.Single((await store.SearchRunsAsync([experiment], null, 10)).Runs);
        var history = await store.GetMetricHistoryAsync(run.Info.RunId, "count");
        Assert.Equal([0.0, 10.0, 20.0], history.Metrics.Select(m => m.Value));
        Assert.Equal([0L, 1L, 2L], history.Metrics.Select(m => m.Step));
    }
}
