namespace Mesh.ModelHost.Tests;

/// <summary>
/// A host serving models from an MLflow server that answers as MLflow's REST API documentation specifies:
/// alias, version and run URIs, the MLmodel signature, an alias move and the swap it triggers.
/// </summary>
public sealed partial class MlflowModelHostTests : IAsyncLifetime
{
    private const string AdminToken = "admin-secret-of-24-chars";
    private static readonly float[] s_bias1 = [0.3f, -0.1f];
    private static readonly float[] s_bias2 = [-2f, 2f];

    private readonly string _cache = Path.Combine(Path.GetTempPath(), "mesh-mlflow-cache-" + Guid.NewGuid().ToString("N"));
    private FakeMlflowServer _mlflow = null!;
    private ModelHostRun _host = null!;

    public async Task InitializeAsync()
    {
        _mlflow = await FakeMlflowServer.StartAsync();
        LogModel("iris-mlflow", "1", "run-1", TestModels.MatMulSoftmaxGraph(s_bias1, openFeatures: true));
        LogModel("iris-mlflow", "2", "run-2", TestModels.MatMulSoftmaxGraph(s_bias2));
        _mlflow.SetAlias("iris-mlflow", "champion", "1");
        LogModel("iris-swap", "1", "swap-1", TestModels.MatMulSoftmaxGraph(s_bias1));
        LogModel("iris-swap", "2", "swap-2", TestModels.MatMulSoftmaxGraph(s_bias2));
        var corrupt = _mlflow.AddVersion("iris-swap", "3", "swap-3");
        await File.WriteAllTextAsync(Path.Combine(corrupt, "MLmodel"), Mlmodel("swap-3"));
        await File.WriteAllTextAsync(Path.Combine(corrupt, "model.onnx"), "not an ONNX model");
        _mlflow.SetAlias("iris-swap", "prod", "1");
        LogModel("iris-gone", "1", "gone-1", TestModels.MatMulSoftmaxGraph(s_bias1));
        LogModelWithExternalWeights("iris-external", "1", "external-1", TestModels.MatMulSoftmaxGraph(s_bias2));
        _mlflow.SetAlias("iris-gone", "prod", "1");
        var logged = _mlflow.AddLoggedModel("m-7e1d2c3b");
        File.WriteAllBytes(Path.Combine(logged, "model.onnx"), OnnxGraphs.Model(TestModels.MatMulSoftmaxGraph(s_bias2)));
        File.WriteAllText(Path.Combine(logged, "MLmodel"), Mlmodel("logged"));

        _host = await ModelHostRun.StartAsync(Settings(new Dictionary<string, string?>
        {
            ["ModelHost:Mlflow:Models:0:Uri"] = "models:/iris-mlflow@champion",
            ["ModelHost:Mlflow:Models:1:Uri"] = "models:/iris-mlflow/2",
            ["ModelHost:Mlflow:Models:1:Name"] = "iris-pinned",
            ["ModelHost:Mlflow:Models:2:Uri"] = "runs:/run-2/model",
            ["ModelHost:Mlflow:Models:2:Name"] = "iris-run",
            ["ModelHost:Mlflow:Models:3:Uri"] = "models:/iris-swap@prod",
            ["ModelHost:Mlflow:Models:4:Uri"] = "models:/iris-mlflow/latest",
            ["ModelHost:Mlflow:Models:4:Name"] = "iris-latest",
            ["ModelHost:Mlflow:Models:5:Uri"] = "models:/m-7e1d2c3b",
            ["ModelHost:Mlflow:Models:5:Name"] = "iris-logged",
            ["ModelHost:Mlflow:Models:6:Uri"] = "models:/iris-gone@prod",
            ["ModelHost:Mlflow:Models:7:Uri"] = "models:/iris-external/1",
        }));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _mlflow.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    [Fact]
    public async Task ModelInfer_AliasVersionAndRunUris_ServeTheResolvedVersions()
    {
        await AssertServesAsync("iris-mlflow", "1", s_bias1);
        await AssertServesAsync("iris-pinned", "2", s_bias2);
        await AssertServesAsync("iris-run", "run-2", s_bias2);
    }

    [Fact]
    public async Task ModelInfer_LatestAndLoggedModelUris_ServeHighestVersionAndLoggedModel()
    {
        await AssertServesAsync("iris-latest", "2", s_bias2);
        await AssertServesAsync("iris-logged", "m-7e1d2c3b", s_bias2);
    }

    [Fact]
    public async Task ModelInfer_OnnxDataKeyWithExternalWeights_LoadsTheNamedFileAndItsWeights()
    {
        await AssertServesAsync("iris-external", "1", s_bias2);
    }

    [Fact]
    public async Task ModelInfer_SignatureFixesWhatTheGraphLeavesOpen_InvalidArgumentExpectingThreeFeatures()
    {
        var metadata = await _host.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "iris-mlflow" });
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Client.ModelInferAsync(Latest("iris-mlflow", [1, 2])).ResponseAsync);

        Assert.Equal([-1L, 3L], metadata.Inputs[0].Shape);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("'x' has shape [1, 2]; expected [N, 3]", error.Status.Detail);
    }

    [Fact]
    public async Task AliasMove_PolledThenBrokenVersionOnAdminCall_SwapsWithoutFailuresAndKeepsServingOnLoadError()
    {
        var failures = new ConcurrentQueue<string>();
        var versions = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var response = await _host.Client.ModelInferAsync(Latest("iris-swap", [1, 2, 3]));
                    versions.AddOrUpdate(response.ModelVersion, 1, (_, n) => n + 1);
                    AssertSoftmax(response, [1, 2, 3], response.ModelVersion == "1" ? s_bias1 : s_bias2);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e.Message);
                }
            }
        })).ToList();
        await WaitUntil(() => Task.FromResult(versions.ContainsKey("1")), "requests on version 1");

        _mlflow.SetAlias("iris-swap", "prod", "2");
        await WaitUntil(() => Task.FromResult(versions.ContainsKey("2")), "the poll to swap in version 2");
        await Task.Delay(200);
        stop.Cancel();
        await Task.WhenAll(callers);

        Assert.Empty(failures);
        Assert.True(versions["2"] > 0);

        _mlflow.SetAlias("iris-swap", "prod", "3");
        var unauthorized = await _host.Http.PostAsync("/v2/repository/models/iris-swap/load", null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/repository/models/iris-swap/load");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var load = await _host.Http.SendAsync(request);
        var body = JsonNode.Parse(await load.Content.ReadAsStringAsync())!;
        var after = await _host.Client.ModelInferAsync(Latest("iris-swap", [1, 2, 3]));

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, load.StatusCode);
        Assert.Contains("version 3", (string?)body["error"]);
        Assert.Equal("2", (string?)body["version"]);
        Assert.Equal("2", after.ModelVersion);
    }

    [Fact]
    public async Task Restart_RegisteredModelDeletedAndCreatedAgain_ServesTheNewVersionOneNotTheCachedOld()
    {
        LogModel("iris-again", "1", "again-old", TestModels.MatMulSoftmaxGraph(s_bias1));
        var models = new Dictionary<string, string?> { ["ModelHost:Mlflow:Models:0:Uri"] = "models:/iris-again/1" };
        var before = await InferOnFreshHostAsync(models, "iris-again");
        _mlflow.DeleteRegisteredModel("iris-again");
        LogModel("iris-again", "1", "again-new", TestModels.MatMulSoftmaxGraph(s_bias2));

        var after = await InferOnFreshHostAsync(models, "iris-again");

        AssertSoftmax(before, [1, 2, 3], s_bias1);
        Assert.Equal("1", after.ModelVersion);
        AssertSoftmax(after, [1, 2, 3], s_bias2);
    }

    [Fact]
    public async Task AliasDeleted_PolledAndReloaded_OneWarningGaugeAndDegradedHealthWhileTheOldVersionServes()
    {
        var logs = new CapturedLogs();
        _host.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        using var gauge = new MeterListener();
        var unresolved = new ConcurrentDictionary<string, int>();
        gauge.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "mesh.model_host.mlflow.unresolved")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        gauge.SetMeasurementEventCallback<int>((_, value, tags, _) => unresolved[(string)tags.ToArray().Single(t => t.Key == "model").Value!] = value);
        gauge.Start();

        _mlflow.DeleteAlias("iris-gone", "prod");
        for (var i = 0; i < 3; i++)
        {
            await AdminLoadAsync("iris-gone");
        }

        var health = await _host.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var healthText = await _host.Http.GetStringAsync("/health");
        var served = await _host.Client.ModelInferAsync(Latest("iris-gone", [1, 2, 3]));
        gauge.RecordObservableInstruments();
        var gaugeWhileGone = unresolved.GetValueOrDefault("iris-gone", -1);

        _mlflow.SetAlias("iris-gone", "prod", "1");
        await AdminLoadAsync("iris-gone");
        var healthAfter = await _host.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        gauge.RecordObservableInstruments();

        // What the model source says about it (the health check service reports each degraded check itself).
        var about = logs.Entries.Where(e => e.Category.EndsWith("MlflowModelSource", StringComparison.Ordinal) && e.Message.Contains("iris-gone", StringComparison.Ordinal)).ToList();
        Assert.Single(about, e => e.Level == LogLevel.Warning && e.Exception is null);
        Assert.DoesNotContain(about, e => e.Level >= LogLevel.Error);
        Assert.Equal(1, gaugeWhileGone);
        Assert.Equal(0, unresolved["iris-gone"]);
        Assert.Equal("Degraded", healthText);
        Assert.Equal(HealthStatus.Degraded, health.Entries["mlflow"].Status);
        Assert.Contains("iris-gone keeps serving version 1", health.Entries["mlflow"].Description);
        Assert.Contains("alias prod not found", health.Entries["mlflow"].Description);
        Assert.Equal("1", served.ModelVersion);
        Assert.Equal(HealthStatus.Healthy, healthAfter.Entries["mlflow"].Status);
    }

    private async Task AdminLoadAsync(string model)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/repository/models/{model}/load");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var _ = await _host.Http.SendAsync(request);
    }

    // A host of its own on the same cache folder, started, asked once and stopped: what a restart sees.
    private async Task<ModelInferResponse> InferOnFreshHostAsync(Dictionary<string, string?> models, string model)
    {
        await using var host = await ModelHostRun.StartAsync(Settings(models));
        return await host.Client.ModelInferAsync(Latest(model, [1, 2, 3]));
    }

    private Dictionary<string, string?> Settings(Dictionary<string, string?> models) =>
        ModelHostRun.Settings(_mlflow, _cache, pollSeconds: 1, new Dictionary<string, string?>(models) { ["ModelHost:AdminToken"] = AdminToken });

    // No version: the one the URI resolves to now, as the router asks.
    private static ModelInferRequest Latest(string model, float[] row)
    {
        var request = Raw(model, row, 1, inputName: "x");
        request.ModelVersion = "";
        return request;
    }

    private void LogModel(string name, string version, string runId, GraphProto graph)
    {
        var folder = _mlflow.AddVersion(name, version, runId);
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), OnnxGraphs.Model(graph));
        File.WriteAllText(Path.Combine(folder, "MLmodel"), Mlmodel(runId));
    }

    // As onnx.save_model(..., save_as_external_data=True) leaves it: the weights in a file beside the graph,
    // which is not called model.onnx, in a sub-folder the download must bring along.
    private void LogModelWithExternalWeights(string name, string version, string runId, GraphProto graph)
    {
        var folder = _mlflow.AddVersion(name, version, runId);
        var weights = graph.Initializer.Single(i => i.Name == "W");
        var bytes = weights.FloatData.SelectMany(BitConverter.GetBytes).ToArray();
        Directory.CreateDirectory(Path.Combine(folder, "weights"));
        File.WriteAllBytes(Path.Combine(folder, "weights", "iris.onnx.data"), bytes);
        weights.FloatData.Clear();
        weights.DataLocation = 1;
        weights.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights/iris.onnx.data" });
        weights.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "0" });
        weights.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        File.WriteAllBytes(Path.Combine(folder, "iris.onnx"), OnnxGraphs.Model(graph));
        File.WriteAllText(Path.Combine(folder, "MLmodel"), Mlmodel(runId, "iris.onnx"));
    }

    // What mlflow.onnx.log_model writes (MLflow 3: flavors.onnx.data, no onnx_model key), with a tensor signature.
    private static string Mlmodel(string runId, string modelFile = "model.onnx") => $$"""
        artifact_path: model
        flavors:
          onnx:
            code: null
            data: {{modelFile}}
            onnx_version: 1.16.0
            providers:
            - CPUExecutionProvider
          python_function:
            data: {{modelFile}}
            env:
              conda: conda.yaml
              virtualenv: python_env.yaml
            loader_module: mlflow.onnx
            python_version: 3.11.9
        mlflow_version: 3.6.0
        model_uuid: 4f3a0e4c5b7d4d3f9a1e2b3c4d5e6f70
        run_id: {{runId}}
        signature:
          inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}, "name": "x"}]'
          outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}, "name": "probs"}]'
          params: null
        utc_time_created: '2026-11-27 14:00:00.000000'
        """;

    // The host answers a row of the model from that version: the softmax of the test weights and that bias.
    private async Task AssertServesAsync(string model, string version, float[] bias)
    {
        var response = await _host.Client.ModelInferAsync(Latest(model, [1, 2, 3]));

        Assert.Equal(version, response.ModelVersion);
        AssertSoftmax(response, [1, 2, 3], bias);
    }

    private static void AssertSoftmax(ModelInferResponse response, float[] row, float[] bias)
    {
        var weightsByClass = new float[2, 3];
        for (var f = 0; f < 3; f++)
        {
            for (var c = 0; c < 2; c++)
            {
                weightsByClass[c, f] = TestModels.MatMulWeights[f, c];
            }
        }

        var expected = TestModels.Softmax(weightsByClass, bias, row);
        var actual = DecodeFp32(Output(response, "probs").Bytes);
        Assert.Equal(expected[0], actual[0], 1e-5);
        Assert.Equal(expected[1], actual[1], 1e-5);
    }

    private static Task WaitUntil(Func<Task<bool>> condition, string what) => ModelHostRun.WaitUntil(condition, what);
}
