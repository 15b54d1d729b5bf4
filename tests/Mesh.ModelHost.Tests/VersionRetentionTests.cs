namespace Mesh.ModelHost.Tests;

/// <summary>
/// A router pinned to <c>version: "1"</c> while the alias moves to version 2: the host keeps version 1
/// serving (<c>ModelHost:RetainPreviousVersions</c>) until it is unloaded.
/// </summary>
public sealed class VersionRetentionTests : IAsyncLifetime
{
    private const string Model = "iris-retained";
    private const string AdminToken = "retention-test-admin-token";

    private readonly string _cache = Path.Combine(Path.GetTempPath(), "mesh-retention-cache-" + Guid.NewGuid().ToString("N"));
    private FakeMlflowServer _mlflow = null!;
    private ModelHostRun _host = null!;

    public async Task InitializeAsync()
    {
        _mlflow = await FakeMlflowServer.StartAsync();
        foreach (var (version, bias) in new[] { ("1", new[] { 0.3f, -0.1f }), ("2", new[] { -2f, 2f }) })
        {
            var folder = _mlflow.AddVersion(Model, version, "run-" + version);
            await File.WriteAllBytesAsync(Path.Combine(folder, "model.onnx"), OnnxGraphs.Model(TestModels.MatMulSoftmaxGraph(bias)));
            await File.WriteAllTextAsync(Path.Combine(folder, "MLmodel"), $"artifact_path: model\nflavors:\n  onnx:\n    data: model.onnx\n    onnx_model: model.onnx\nrun_id: run-{version}\n");
        }

        _mlflow.SetAlias(Model, "prod", "1");

        // Polling is off: the alias move is taken by the admin call, so the test decides when the swap happens.
        _host = await ModelHostRun.StartAsync(ModelHostRun.Settings(_mlflow, _cache, pollSeconds: 0, new Dictionary<string, string?>
        {
            ["ModelHost:Mlflow:Models:0:Uri"] = $"models:/{Model}@prod",
            ["ModelHost:AdminToken"] = AdminToken,
        }), AdminToken);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _mlflow.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    [Fact]
    public async Task AliasMove_RouterPinnedToVersionOne_KeepsBeingServedUntilUnloaded()
    {
        _mlflow.SetAlias(Model, "prod", "2");
        var load = await _host.Http.PostAsync($"/v2/repository/models/{Model}/load", null);

        var pinned = await _host.Client.ModelInferAsync(Raw(Model, [1, 2, 3], 1, inputName: "x"));
        var latest = await _host.Client.ModelInferAsync(new ModelInferRequest(Raw(Model, [1, 2, 3], 1, inputName: "x")) { ModelVersion = "" });
        var metadata = await _host.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = Model, Version = "1" });
        var ready = await _host.Client.ModelReadyAsync(new ModelReadyRequest { Name = Model, Version = "1" });
        var unloadDefault = await _host.Http.PostAsync($"/v2/repository/models/{Model}/versions/2/unload", null);
        var unload = await _host.Http.PostAsync($"/v2/repository/models/{Model}/versions/1/unload", null);
        var gone = await Assert.ThrowsAsync<RpcException>(() => _host.Client.ModelInferAsync(Raw(Model, [1, 2, 3], 1, inputName: "x")).ResponseAsync);

        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        Assert.Equal("1", pinned.ModelVersion);
        Assert.Equal("2", latest.ModelVersion);
        Assert.Equal(["1", "2"], metadata.Versions);
        Assert.True(ready.Ready);
        Assert.Equal(HttpStatusCode.Conflict, unloadDefault.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }
}
