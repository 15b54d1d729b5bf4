namespace Mesh.ModelHost.Tests;

/// <summary>
/// A model served as a chain of steps (a repository version whose config.json lists <c>steps</c>): answers equal to
/// the steps' arithmetic done here, the composite signature in ModelMetadata, a histogram per step, and chains
/// whose steps do not join refused at load with both steps and the tensor named.
/// </summary>
public sealed class ChainTests(ChainHostFixture host) : IClassFixture<ChainHostFixture>
{
    private const double Tolerance = 1e-5;

    [Fact]
    public async Task ModelInfer_TwoStepChain_ReturnsTheClassifierOfTheScaledFeatures()
    {
        float[][] rows = [Setosa, Versicolor, Virginica, [5.9f, 3.0f, 5.1f, 1.8f]];

        var response = await host.Client.ModelInferAsync(Raw(ChainModels.Chain, Concat(rows), rows.Length, inputName: "x"));

        var probabilities = DecodeFp32(Output(response, "probabilities").Bytes);
        var labels = DecodeBytes(Output(response, "label").Bytes);
        for (var r = 0; r < rows.Length; r++)
        {
            var expected = ChainModels.Expected(rows[r]);
            for (var c = 0; c < expected.Length; c++)
            {
                Assert.Equal(expected[c], probabilities[(r * expected.Length) + c], Tolerance);
            }

            Assert.Equal(ChainModels.ClassNames[Array.IndexOf(expected, expected.Max())], labels[r]);
        }

        // The numbers are chosen so the chain tells the three species apart: the test would pass on no constant answer.
        Assert.Equal(["setosa", "versicolor", "virginica"], labels.Take(3));
    }

    [Fact]
    public async Task ModelInfer_ConcurrentRequestsToAChain_EachGetsItsOwnRowsAnswers()
    {
        // Requests at once are stacked into one run by the dynamic batcher and cut apart after the last step.
        var rows = Enumerable.Range(0, 8).Select(i => new[] { 4.5f + (0.4f * i), 3.0f, 1.0f + (0.7f * i), 0.1f + (0.3f * i) }).ToArray();

        var responses = await Task.WhenAll(rows.Select(row => host.Client.ModelInferAsync(Raw(ChainModels.Chain, row, 1, inputName: "x")).ResponseAsync));

        for (var r = 0; r < rows.Length; r++)
        {
            var expected = ChainModels.Expected(rows[r]);
            var probabilities = DecodeFp32(Output(responses[r], "probabilities").Bytes);
            Assert.Equal(expected.Length, probabilities.Length);
            for (var c = 0; c < expected.Length; c++)
            {
                Assert.Equal(expected[c], probabilities[c], Tolerance);
            }
        }
    }

    [Fact]
    public async Task ModelMetadata_Chain_ReportsTheFirstStepsInputsAndTheLastStepsOutputs()
    {
        var metadata = await host.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = ChainModels.Chain });
        using var http = new HttpClient { BaseAddress = host.HttpUri };
        var json = await http.GetFromJsonAsync<JsonObject>($"/v2/models/{ChainModels.Chain}");

        var input = Assert.Single(metadata.Inputs);
        Assert.Equal(("x", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1, 4], input.Shape);
        Assert.Equal(ChainModels.FeatureNames, JsonSerializer.Deserialize<string[]>(input.Parameters["feature_names"].StringParam)!);
        Assert.Equal(["label", "probabilities"], metadata.Outputs.Select(o => o.Name));
        Assert.Equal([-1, 3], metadata.Outputs[1].Shape);
        Assert.Equal(ChainModels.ClassNames, JsonSerializer.Deserialize<string[]>(metadata.Parameters["class_names"].StringParam)!);
        Assert.Equal(["x"], json!["inputs"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));
        Assert.Equal(["label", "probabilities"], json["outputs"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Load_NextStepInputNotAnOutputOfThePreviousStep_RefusedNamingBothStepsAndTheTensor()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            host.Client.ModelInferAsync(Raw(ChainModels.MismatchedNames, Setosa, 1, inputName: "x")).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains($"step 2 '{ChainModels.RenamedInput}' takes input 'scaled'", error.Status.Detail);
        Assert.Contains($"step 1 '{ChainModels.Scaler}' does not output (its outputs: features)", error.Status.Detail);
    }

    [Fact]
    public async Task Load_NextStepInputOfAnotherType_RefusedNamingBothStepsAndTypes()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            host.Client.ModelInferAsync(Raw(ChainModels.MismatchedTypes, Setosa, 1, inputName: "x")).ResponseAsync);

        Assert.Contains($"step 1 '{ChainModels.Scaler}' output 'features' is FP32 [-1, 4]", error.Status.Detail);
        Assert.Contains($"step 2 '{ChainModels.DoubleInput}' input 'features' takes FP64 [-1, 4]", error.Status.Detail);
    }

    [Fact]
    public async Task Load_StepNotInTheRepository_RefusedNamingTheStep()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            host.Client.ModelInferAsync(Raw(ChainModels.MissingStep, Setosa, 1, inputName: "x")).ResponseAsync);

        Assert.Contains("step 'no-such-model' is not a model of the repository", error.Status.Detail);
    }

    [Fact]
    public async Task Metrics_AfterChainInference_ShowAHistogramPerStep()
    {
        await host.Client.ModelInferAsync(Raw(ChainModels.Chain, Setosa, 1, inputName: "x"));
        using var http = new HttpClient { BaseAddress = host.HttpUri };

        // The exporter may answer from its short response cache: a few scrapes are allowed before a series counts as missing.
        List<string> lines = [];
        for (var scrape = 0; scrape < 20 && lines.Select(StepOf).Distinct().Count() < 2; scrape++)
        {
            await Task.Delay(scrape == 0 ? 0 : 250);
            lines = [.. (await http.GetStringAsync("/metrics")).Split('\n')
                .Where(l => l.StartsWith("mesh_model_host_step_duration_seconds_count", StringComparison.Ordinal) && l.Contains($"model=\"{ChainModels.Chain}\""))];
        }

        Assert.Equal([ChainModels.Classifier + "/1", ChainModels.Scaler], lines.Select(StepOf).Distinct().Order(StringComparer.Ordinal));
    }

    private static string StepOf(string line)
    {
        var start = line.IndexOf("step=\"", StringComparison.Ordinal) + "step=\"".Length;
        return line[start..line.IndexOf('"', start)];
    }
}
