namespace Mesh.ModelHost.Tests;

/// <summary>A chain whose steps are MLflow model URIs (<c>ModelHost:Mlflow:Models:N:Steps</c>), and a step's alias moving.</summary>
public sealed partial class MlflowModelHostTests
{
    private static readonly float[] s_unitScale = [1f, 1f, 1f, 1f];
    private static readonly float[] s_noShift = [0f, 0f, 0f, 0f];

    [Fact]
    public async Task Chain_StepsFromMlflowUris_ServesTheChainAndSwapsItWhenAStepsAliasMoves()
    {
        LogStep("mlflow-scaler", "1", "scaler-1", ChainModels.ScalerGraph(ChainModels.ScaleA, ChainModels.ScaleB), "x");
        LogStep("mlflow-scaler", "2", "scaler-2", ChainModels.ScalerGraph(s_unitScale, s_noShift), "x");
        // mesh train logs config.json beside MLmodel: the classifier's class names come with it.
        var linear = LogStep("mlflow-linear", "4", "linear-4", ChainModels.ClassifierGraph("features"), "features");
        File.WriteAllText(Path.Combine(linear, "config.json"), ChainModels.ClassifierConfig);
        _mlflow.SetAlias("mlflow-scaler", "prod", "1");
        await using var host = await ModelHostRun.StartAsync(
            Settings(new Dictionary<string, string?>
            {
                ["ModelHost:Mlflow:Models:0:Name"] = "mlflow-chain",
                ["ModelHost:Mlflow:Models:0:Steps:0"] = "models:/mlflow-scaler@prod",
                ["ModelHost:Mlflow:Models:0:Steps:1"] = "models:/mlflow-linear/4",
                ["ModelHost:Mlflow:PollSeconds"] = "0",
            }),
            AdminToken);
        float[] row = [6.3f, 3.3f, 6.0f, 2.5f];

        var before = await host.Client.ModelInferAsync(Latest("mlflow-chain", row));
        _mlflow.SetAlias("mlflow-scaler", "prod", "2");
        using var load = await host.Http.PostAsync("/v2/repository/models/mlflow-chain/load", null);
        var after = await host.Client.ModelInferAsync(Latest("mlflow-chain", row));

        Assert.Equal("1+4", before.ModelVersion);
        AssertClose(ChainModels.Expected(row), DecodeFp32(Output(before, "probabilities").Bytes));
        Assert.True(load.IsSuccessStatusCode, await load.Content.ReadAsStringAsync());
        Assert.Equal("2+4", after.ModelVersion);
        AssertClose(ChainModels.Expected(row, s_unitScale, s_noShift), DecodeFp32(Output(after, "probabilities").Bytes));
    }

    // A step logged with the onnx flavor and its input's tensor signature, FP32 [-1, 4].
    private string LogStep(string name, string version, string runId, Onnx.GraphProto graph, string input)
    {
        var folder = _mlflow.AddVersion(name, version, runId);
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), OnnxGraphs.Model(graph));
        File.WriteAllText(Path.Combine(folder, "MLmodel"), $$"""
            artifact_path: model
            flavors:
              onnx:
                data: model.onnx
                onnx_version: 1.16.0
            mlflow_version: 3.6.0
            run_id: {{runId}}
            signature:
              inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "{{input}}"}]'
            """);
        return folder;
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var c = 0; c < expected.Length; c++)
        {
            Assert.Equal(expected[c], actual[c], 1e-5);
        }
    }
}
