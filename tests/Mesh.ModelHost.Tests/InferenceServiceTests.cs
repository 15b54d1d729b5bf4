namespace Mesh.ModelHost.Tests;

/// <summary>The Open Inference Protocol over a real h2c gRPC channel to an in-process host.</summary>
[Collection(ModelHostCollection.Name)]
public sealed class InferenceServiceTests(ModelHostFixture host)
{
    private static readonly string[] s_classNames = ["setosa", "versicolor", "virginica"];

    private GRPCInferenceService.GRPCInferenceServiceClient Client => host.Client;

    [Theory]
    [InlineData("iris-logreg")]
    [InlineData("iris-boosted")]
    public async Task ModelInfer_KnownIrisRowsRaw_ReturnsClassNamesAndProbabilities(string model)
    {
        var request = Raw(model, Concat(Setosa, Versicolor, Virginica), rows: 3, id: "req-42");

        var response = await Client.ModelInferAsync(request);

        Assert.Equal(model, response.ModelName);
        Assert.Equal("1", response.ModelVersion);
        Assert.Equal("req-42", response.Id);
        Assert.Equal(s_classNames, JsonSerializer.Deserialize<string[]>(response.Parameters["class_names"].StringParam));

        var (label, labelBytes) = Output(response, "label");
        Assert.Equal("BYTES", label.Datatype);
        Assert.Equal([3L], label.Shape);
        Assert.Equal(s_classNames, DecodeBytes(labelBytes));

        var (probabilities, probabilityBytes) = Output(response, "probabilities");
        Assert.Equal("FP32", probabilities.Datatype);
        Assert.Equal([3L, 3L], probabilities.Shape);
        var values = DecodeFp32(probabilityBytes);
        Assert.Equal(9, values.Length);
        for (var row = 0; row < 3; row++)
        {
            var rowValues = values.AsSpan(row * 3, 3);
            Assert.InRange(rowValues[0] + rowValues[1] + rowValues[2], 0.99f, 1.01f);
            Assert.Equal(row, rowValues.IndexOf(rowValues.ToArray().Max()));
        }
    }

    [Theory]
    [InlineData("iris-logreg")]
    [InlineData("iris-boosted")]
    public async Task ModelInfer_AllIrisRowsInOneBatch_ClassifiesAbove90Percent(string model)
    {
        var (features, species) = Mesh.Cli.Tests.IrisData.Load();

        var response = await Client.ModelInferAsync(Raw(model, features, species.Length));

        var labels = DecodeBytes(Output(response, "label").Bytes);
        Assert.Equal(species.Length, labels.Count);
        Assert.Equal([species.Length, 3L], Output(response, "probabilities").Tensor.Shape);
        var accuracy = labels.Zip(species).Count(pair => pair.First == pair.Second) / (double)species.Length;
        Assert.True(accuracy > 0.9, $"{model} accuracy {accuracy:F3}");
    }

    [Fact]
    public async Task ModelInfer_TypedFp32Contents_AnswersLikeRawInput()
    {
        var rows = Concat(Virginica, Setosa);

        var typed = await Client.ModelInferAsync(Typed("iris-logreg", rows, 2));
        var raw = await Client.ModelInferAsync(Raw("iris-logreg", rows, 2));

        Assert.Equal(["virginica", "setosa"], DecodeBytes(Output(typed, "label").Bytes));
        Assert.Equal(DecodeFp32(Output(raw, "probabilities").Bytes), DecodeFp32(Output(typed, "probabilities").Bytes));
    }

    [Fact]
    public async Task ModelInfer_RequestedOutputOnly_ReturnsOnlyThatOutput()
    {
        var request = Raw("iris-boosted", Versicolor, 1);
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "label" });

        var response = await Client.ModelInferAsync(request);

        Assert.Equal(["label"], response.Outputs.Select(o => o.Name));
        Assert.Single(response.RawOutputContents);
        Assert.Equal(["versicolor"], DecodeBytes(response.RawOutputContents[0]));
    }

    [Fact]
    public async Task ModelInfer_EmptyVersion_UsesLatestLoadedVersion()
    {
        var request = Raw("iris-logreg", Setosa, 1);
        request.ModelVersion = "";

        var response = await Client.ModelInferAsync(request);

        Assert.Equal("1", response.ModelVersion);
        Assert.Equal(["setosa"], DecodeBytes(Output(response, "label").Bytes));
    }

    [Fact]
    public async Task ModelMetadata_IrisLogreg_DescribesInputAndOutputsWithDynamicBatch()
    {
        var metadata = await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "iris-logreg", Version = "1" });

        Assert.Equal("iris-logreg", metadata.Name);
        Assert.Equal(["1"], metadata.Versions);
        Assert.Equal("onnxruntime_onnx", metadata.Platform);
        var input = Assert.Single(metadata.Inputs);
        Assert.Equal(("Features", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1L, 4L], input.Shape);
        Assert.Equal(["label", "probabilities"], metadata.Outputs.Select(o => o.Name));
        Assert.Equal("BYTES", metadata.Outputs[0].Datatype);
        Assert.Equal([-1L], metadata.Outputs[0].Shape);
        Assert.Equal("FP32", metadata.Outputs[1].Datatype);
        Assert.Equal([-1L, 3L], metadata.Outputs[1].Shape);
    }

    [Fact]
    public async Task ServerAndModelReady_LoadedModels_AreReadyAndCorruptModelIsNot()
    {
        Assert.True((await Client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.Equal("mesh-model-host", (await Client.ServerMetadataAsync(new ServerMetadataRequest())).Name);
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Name = "iris-logreg", Version = "1" })).Ready);
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Name = "iris-boosted" })).Ready);
        Assert.False((await Client.ModelReadyAsync(new ModelReadyRequest { Name = ModelHostFixture.CorruptModel, Version = "1" })).Ready);
    }

    [Fact]
    public async Task ModelInfer_CorruptModel_UnavailableNamingTheModelWhileOthersServe()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(Raw(ModelHostFixture.CorruptModel, Setosa, 1)).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(ModelHostFixture.CorruptModel, error.Status.Detail);
        Assert.Contains("failed to load", error.Status.Detail);
        var good = await Client.ModelInferAsync(Raw("iris-logreg", Setosa, 1));
        Assert.Equal(["setosa"], DecodeBytes(Output(good, "label").Bytes));
    }

    [Fact]
    public async Task ModelInfer_UnknownModel_NotFoundNamingIt()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(Raw("iris-missing", Setosa, 1)).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("iris-missing", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_UnknownVersion_NotFoundNamingIt()
    {
        var request = Raw("iris-logreg", Setosa, 1);
        request.ModelVersion = "7";

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("'7'", error.Status.Detail);
        Assert.Contains("iris-logreg", error.Status.Detail);
    }

    [Fact]
    public async Task ModelMetadata_UnknownModel_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "nope" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("nope", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_WrongInputName_InvalidArgumentNamingExpectedInput()
    {
        var error = await InvalidArgument(Raw("iris-logreg", Setosa, 1, inputName: "features_x"));

        Assert.Contains("'features_x'", error.Status.Detail);
        Assert.Contains("'Features'", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_WrongDatatype_InvalidArgumentNamingTensorAndFp32()
    {
        var request = Raw("iris-logreg", Setosa, 1);
        request.Inputs[0].Datatype = "FP64";

        var error = await InvalidArgument(request);

        Assert.Contains("'Features'", error.Status.Detail);
        Assert.Contains("FP64", error.Status.Detail);
        Assert.Contains("FP32", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_WrongFeatureCount_InvalidArgumentNamingExpectedShape()
    {
        var error = await InvalidArgument(Raw("iris-logreg", [5.1f, 3.5f, 1.4f], 1));

        Assert.Contains("'Features'", error.Status.Detail);
        Assert.Contains("[1, 3]", error.Status.Detail);
        Assert.Contains("[N, 4]", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_RawByteLengthMismatch_InvalidArgumentNamingExpectedBytes()
    {
        // The shape says two rows, the bytes hold one.
        var request = Raw("iris-logreg", Setosa, 1);
        request.Inputs[0].Shape[0] = 2;

        var error = await InvalidArgument(request);

        Assert.Contains("'Features'", error.Status.Detail);
        Assert.Contains("16 bytes", error.Status.Detail);
        Assert.Contains("expected 32", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_TypedContentsCountMismatch_InvalidArgument()
    {
        var request = Typed("iris-logreg", Concat(Setosa, Setosa), 2);
        request.Inputs[0].Contents.Fp32Contents.RemoveAt(7);

        var error = await InvalidArgument(request);

        Assert.Contains("7 values", error.Status.Detail);
        Assert.Contains("expected 8", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_NoData_InvalidArgument()
    {
        var request = Raw("iris-logreg", Setosa, 1);
        request.RawInputContents.Clear();

        var error = await InvalidArgument(request);

        Assert.Contains("no data", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_UnknownRequestedOutput_InvalidArgumentListingOutputs()
    {
        var request = Raw("iris-logreg", Setosa, 1);
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "Score.output" });

        var error = await InvalidArgument(request);

        Assert.Contains("'Score.output'", error.Status.Detail);
        Assert.Contains("label, probabilities", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_ThreeRows_RecordsRowsAndOneInferenceDuration()
    {
        long rows = 0;
        var durations = 0;
        var factory = host.MeterFactory;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Other test classes run hosts in parallel in this process: only this host's meter, and only this model.
            if (instrument.Meter.Name == "Mesh.ModelHost" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            if (instrument.Name == "mesh.model_host.rows" && IsModel(tags, "iris-boosted"))
            {
                Interlocked.Add(ref rows, value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) =>
        {
            if (instrument.Name == "mesh.model_host.inference.duration" && IsModel(tags, "iris-boosted"))
            {
                Interlocked.Increment(ref durations);
            }
        });
        listener.Start();

        await Client.ModelInferAsync(Raw("iris-boosted", Concat(Setosa, Versicolor, Virginica), 3));

        Assert.Equal(3, Interlocked.Read(ref rows));
        Assert.Equal(1, Volatile.Read(ref durations));
    }

    [Fact]
    public async Task Health_AfterModelsLoaded_IsHealthyOnHttpEndpoint()
    {
        using var http = new HttpClient { BaseAddress = host.HttpUri };

        var response = await http.GetAsync("/health");

        Assert.True(response.IsSuccessStatusCode, $"/health answered {(int)response.StatusCode}");
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    private static bool IsModel(ReadOnlySpan<KeyValuePair<string, object?>> tags, string model)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "model" && Equals(tag.Value, model))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<RpcException> InvalidArgument(ModelInferRequest request)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        return error;
    }
}
