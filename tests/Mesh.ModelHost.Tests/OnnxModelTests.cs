namespace Mesh.ModelHost.Tests;

/// <summary>
/// Models of several shapes written by the tests (every datatype, several inputs and outputs, ai.onnx.ml
/// classifiers with ZipMap, a tree ensemble, MatMul+Softmax, a regressor, a string input), answers checked
/// against values computed here.
/// </summary>
[Collection(ModelHostCollection.Name)]
public sealed class OnnxModelTests(ModelHostFixture host)
{
    private const double Tolerance = 1e-5;

    private GRPCInferenceService.GRPCInferenceServiceClient Client => host.Client;

    /// <summary>Two rows of two values per datatype, in the v2 raw encoding, chosen to hit each type's edges.</summary>
    public static byte[] RawValues(string datatype) => datatype switch
    {
        "BOOL" => [1, 0, 0, 1],
        "INT8" => Bytes<sbyte>(-128, -1, 0, 127),
        "INT16" => Bytes<short>(short.MinValue, -2, 3, short.MaxValue),
        "INT32" => Bytes(int.MinValue, -5, 6, int.MaxValue),
        "INT64" => Bytes(long.MinValue, -7L, 8L, long.MaxValue),
        "UINT8" => Bytes<byte>(0, 1, 200, 255),
        "UINT16" => Bytes<ushort>(0, 2, 40000, ushort.MaxValue),
        "UINT32" => Bytes(0u, 3u, 3_000_000_000u, uint.MaxValue),
        "UINT64" => Bytes(0ul, 4ul, 10_000_000_000_000ul, ulong.MaxValue),
        "FP16" => Bytes((Half)1.5, (Half)(-2), (Half)0.25, Half.MaxValue),
        "FP32" => Bytes(1.5f, -2.25f, float.Epsilon, float.MaxValue),
        "FP64" => Bytes(1.5, -2.25, double.Epsilon, double.MaxValue),
        "BYTES" => EncodeStrings("a", "", "ünïcode", "a longer string with spaces"),
        _ => throw new ArgumentOutOfRangeException(nameof(datatype)),
    };

    [Fact]
    public async Task ModelInfer_IdentityEveryDatatypeRaw_ReturnsTheSameTypesShapesAndBytes()
    {
        var request = new ModelInferRequest { ModelName = TestModels.Identity, Id = "types" };
        foreach (var (datatype, _) in TestModels.Datatypes)
        {
            request.Inputs.Add(Input("in_" + datatype, datatype, 2, 2));
            request.RawInputContents.Add(ByteString.CopyFrom(RawValues(datatype)));
        }

        var response = await Client.ModelInferAsync(request);

        Assert.Equal(TestModels.Datatypes.Length, response.Outputs.Count);
        foreach (var (datatype, _) in TestModels.Datatypes)
        {
            var (tensor, bytes) = Output(response, "out_" + datatype);
            Assert.Equal(datatype, tensor.Datatype);
            Assert.Equal([2L, 2L], tensor.Shape);
            Assert.True(RawValues(datatype).AsSpan().SequenceEqual(bytes.Span), $"{datatype} bytes differ");
        }
    }

    [Fact]
    public async Task ModelInfer_Fp16Raw_ReturnsTheSameHalfValues()
    {
        var request = new ModelInferRequest { ModelName = TestModels.HalfIdentity };
        request.Inputs.Add(Input("in_FP16", "FP16", 2, 2));
        request.RawInputContents.Add(ByteString.CopyFrom(RawValues("FP16")));

        var response = await Client.ModelInferAsync(request);

        var (tensor, bytes) = Output(response, "out_FP16");
        Assert.Equal("FP16", tensor.Datatype);
        Assert.Equal([(Half)1.5, (Half)(-2), (Half)0.25, Half.MaxValue], MemoryMarshal.Cast<byte, Half>(bytes.Span).ToArray());
    }

    [Fact]
    public async Task ModelInfer_IdentityEveryDatatypeTyped_ReturnsTheValuesAsRawBytes()
    {
        var request = new ModelInferRequest { ModelName = TestModels.Identity };
        foreach (var (datatype, _) in TestModels.Datatypes)
        {
            var input = Input("in_" + datatype, datatype, 2, 2);
            input.Contents = new InferTensorContents();
            var c = input.Contents;
            switch (datatype)
            {
                case "BOOL": c.BoolContents.AddRange([true, false, false, true]); break;
                case "INT8": c.IntContents.AddRange([-128, -1, 0, 127]); break;
                case "INT16": c.IntContents.AddRange([short.MinValue, -2, 3, short.MaxValue]); break;
                case "INT32": c.IntContents.AddRange([int.MinValue, -5, 6, int.MaxValue]); break;
                case "INT64": c.Int64Contents.AddRange([long.MinValue, -7, 8, long.MaxValue]); break;
                case "UINT8": c.UintContents.AddRange([0, 1, 200, 255]); break;
                case "UINT16": c.UintContents.AddRange([0, 2, 40000, ushort.MaxValue]); break;
                case "UINT32": c.UintContents.AddRange([0, 3, 3_000_000_000, uint.MaxValue]); break;
                case "UINT64": c.Uint64Contents.AddRange([0, 4, 10_000_000_000_000, ulong.MaxValue]); break;
                case "FP32": c.Fp32Contents.AddRange([1.5f, -2.25f, float.Epsilon, float.MaxValue]); break;
                case "FP64": c.Fp64Contents.AddRange([1.5, -2.25, double.Epsilon, double.MaxValue]); break;
                case "BYTES": c.BytesContents.AddRange(new[] { "a", "", "ünïcode", "a longer string with spaces" }.Select(ByteString.CopyFromUtf8)); break;
            }

            request.Inputs.Add(input);
        }

        var response = await Client.ModelInferAsync(request);

        foreach (var (datatype, _) in TestModels.Datatypes)
        {
            var (tensor, bytes) = Output(response, "out_" + datatype);
            Assert.Equal(datatype, tensor.Datatype);
            Assert.True(RawValues(datatype).AsSpan().SequenceEqual(bytes.Span), $"{datatype} bytes differ");
        }
    }

    [Fact]
    public async Task ModelMetadata_IdentityModel_ListsEveryInputAndOutputWithDatatypeAndShape()
    {
        var metadata = await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = TestModels.Identity });

        Assert.Equal(TestModels.Datatypes.Select(t => ("in_" + t.V2, t.V2)), metadata.Inputs.Select(i => (i.Name, i.Datatype)));
        Assert.Equal(TestModels.Datatypes.Select(t => ("out_" + t.V2, t.V2)), metadata.Outputs.Select(o => (o.Name, o.Datatype)));
        Assert.All(metadata.Inputs, i => Assert.Equal([-1L, 2L], i.Shape));
    }

    [Fact]
    public async Task ModelInfer_LinearClassifierWithZipMap_ReturnsInt64LabelsAndProbabilityTensorWithClassLabels()
    {
        float[][] rows = [[1, 2, 3], [-1, 0.5f, 2], [0, 0, 0], [4, -3, 1]];

        var response = await Client.ModelInferAsync(Raw(TestModels.LinearZipMap, [.. rows.SelectMany(r => r)], rows.Length, inputName: "X"));

        Assert.Equal(["10", "20", "30"], JsonSerializer.Deserialize<string[]>(response.Parameters["class_names"].StringParam)!);
        var (labelTensor, labelBytes) = Output(response, "output_label");
        Assert.Equal("INT64", labelTensor.Datatype);
        Assert.Equal([4L], labelTensor.Shape);
        var (probabilityTensor, probabilityBytes) = Output(response, "output_probability");
        Assert.Equal("FP32", probabilityTensor.Datatype);
        Assert.Equal([4L, 3L], probabilityTensor.Shape);
        var labels = MemoryMarshal.Cast<byte, long>(labelBytes.Span).ToArray();
        var probabilities = DecodeFp32(probabilityBytes);
        for (var row = 0; row < rows.Length; row++)
        {
            var expected = TestModels.Softmax(TestModels.LinearWeights, TestModels.LinearIntercepts, rows[row]);
            for (var c = 0; c < 3; c++)
            {
                Assert.Equal(expected[c], probabilities[row * 3 + c], Tolerance);
            }

            Assert.Equal(TestModels.LinearLabels[Array.IndexOf(expected, expected.Max())], labels[row]);
        }
    }

    [Fact]
    public async Task ModelMetadata_ZipMapModel_DescribesProbabilitiesAsFp32WithClassCount()
    {
        var metadata = await Client.ModelMetadataAsync(new ModelMetadataRequest { Name = TestModels.LinearZipMap });

        var probability = Assert.Single(metadata.Outputs, o => o.Name == "output_probability");
        Assert.Equal("FP32", probability.Datatype);
        Assert.Equal([-1L, 3L], probability.Shape);
        var label = Assert.Single(metadata.Outputs, o => o.Name == "output_label");
        Assert.Equal("INT64", label.Datatype);
    }

    [Fact]
    public async Task ModelInfer_TreeEnsembleClassifier_ReturnsStringLabelsAndScoresOfTheLeaves()
    {
        float[][] rows = [[0.2f, 5], [0.9f, 0.5f], [0.9f, 3], [0.5f, 9]];
        string[] expected = ["cat", "dog", "eel", "cat"];

        var response = await Client.ModelInferAsync(Raw(TestModels.Tree, [.. rows.SelectMany(r => r)], rows.Length, inputName: "X"));

        var (labelTensor, labelBytes) = Output(response, "label");
        Assert.Equal("BYTES", labelTensor.Datatype);
        Assert.Equal([4L], labelTensor.Shape);
        Assert.Equal(expected, DecodeBytes(labelBytes));
        var scores = DecodeFp32(Output(response, "scores").Bytes);
        for (var row = 0; row < rows.Length; row++)
        {
            var winner = Array.IndexOf(TestModels.TreeLabels, expected[row]);
            Assert.Equal(Enumerable.Range(0, 3).Select(c => c == winner ? 1f : 0f), scores.Skip(row * 3).Take(3));
        }
    }

    [Fact]
    public async Task ModelInfer_MatMulSoftmaxTypedAndRaw_MatchesSoftmaxComputedHere()
    {
        float[][] rows = [[1, 2, 3], [0.5f, -1, 0], [-2, 0.25f, 1.5f]];
        var typed = Typed(TestModels.MatMulSoftmax, "x", "FP32", c => c.Fp32Contents.AddRange(rows.SelectMany(r => r)), rows.Length, 3);

        var typedResponse = await Client.ModelInferAsync(typed);
        var rawResponse = await Client.ModelInferAsync(Raw(TestModels.MatMulSoftmax, [.. rows.SelectMany(r => r)], rows.Length, inputName: "x"));

        var weightsByClass = new float[2, 3];
        for (var f = 0; f < 3; f++)
        {
            for (var c = 0; c < 2; c++)
            {
                weightsByClass[c, f] = TestModels.MatMulWeights[f, c];
            }
        }

        var probabilities = DecodeFp32(Output(typedResponse, "probs").Bytes);
        Assert.Equal([3L, 2L], Output(typedResponse, "probs").Tensor.Shape);
        Assert.Equal(probabilities, DecodeFp32(Output(rawResponse, "probs").Bytes));
        for (var row = 0; row < rows.Length; row++)
        {
            var expected = TestModels.Softmax(weightsByClass, TestModels.MatMulBias, rows[row]);
            Assert.Equal(expected[0], probabilities[row * 2], Tolerance);
            Assert.Equal(expected[1], probabilities[row * 2 + 1], Tolerance);
        }
    }

    [Fact]
    public async Task ModelInfer_RegressorFp64Typed_ReturnsLinearPrediction()
    {
        double[][] rows = [[1, 2], [-0.5, 0.25], [10, -3]];
        var request = Typed(TestModels.Regressor, "x", "FP64", c => c.Fp64Contents.AddRange(rows.SelectMany(r => r)), rows.Length, 2);

        var response = await Client.ModelInferAsync(request);

        var (tensor, bytes) = Output(response, "variable");
        Assert.Equal("FP64", tensor.Datatype);
        Assert.Equal([3L, 1L], tensor.Shape);
        var values = MemoryMarshal.Cast<byte, double>(bytes.Span).ToArray();
        for (var row = 0; row < rows.Length; row++)
        {
            var expected = TestModels.RegressorCoefficients[0] * rows[row][0] + TestModels.RegressorCoefficients[1] * rows[row][1] + TestModels.RegressorIntercept;
            Assert.Equal(expected, values[row], 1e-12);
        }
    }

    [Fact]
    public async Task ModelInfer_StringInputTypedAndRaw_EncodesKnownAndUnknownColours()
    {
        string[] colours = ["green", "purple", "red", "blue"];
        long[] expected = [2, TestModels.EncoderDefault, 1, 3];
        var typed = Typed(TestModels.StringEncoder, "color", "BYTES", c => c.BytesContents.AddRange(colours.Select(ByteString.CopyFromUtf8)), colours.Length);
        var raw = new ModelInferRequest { ModelName = TestModels.StringEncoder };
        raw.Inputs.Add(Input("color", "BYTES", colours.Length));
        raw.RawInputContents.Add(ByteString.CopyFrom(EncodeStrings(colours)));

        foreach (var request in new[] { typed, raw })
        {
            var response = await Client.ModelInferAsync(request);

            var (tensor, bytes) = Output(response, "code");
            Assert.Equal("INT64", tensor.Datatype);
        Assert.Equal([4L], tensor.Shape);
            Assert.Equal(expected, MemoryMarshal.Cast<byte, long>(bytes.Span).ToArray());
        }
    }

    [Fact]
    public async Task ModelReady_UnsupportedOperator_NotReadyAndInferNamesTheOperatorWhileOthersServe()
    {
        Assert.False((await Client.ModelReadyAsync(new ModelReadyRequest { Name = TestModels.UnsupportedOperator })).Ready);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(Raw(TestModels.UnsupportedOperator, [1, 2], 1, inputName: "x")).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("failed to load", error.Status.Detail);
        Assert.Contains("NoSuchOperator", error.Status.Detail);
        Assert.True((await Client.ModelReadyAsync(new ModelReadyRequest { Name = TestModels.MatMulSoftmax })).Ready);
    }

    [Fact]
    public async Task ModelInfer_Fp16TypedContents_InvalidArgumentAskingForRawBytes()
    {
        var request = Typed(TestModels.HalfIdentity, "in_FP16", "FP16", c => c.Fp32Contents.AddRange([1, 2]), 1, 2);

        await AssertInvalidArgumentAsync(request, "'in_FP16'", "raw_input_contents");
    }

    [Fact]
    public async Task ModelInfer_MalformedRawBytes_InvalidArgumentNamingTheTensor()
    {
        var request = new ModelInferRequest { ModelName = TestModels.StringEncoder };
        request.Inputs.Add(Input("color", "BYTES", 1));
        var encoded = EncodeStrings("red");
        BinaryPrimitives.WriteInt32LittleEndian(encoded, 100);
        request.RawInputContents.Add(ByteString.CopyFrom(encoded));

        await AssertInvalidArgumentAsync(request, "'color'", "claims 100 bytes");
    }

    [Fact]
    public async Task ModelInfer_MissingOneOfSeveralInputs_InvalidArgumentListingTheInputs()
    {
        var request = new ModelInferRequest { ModelName = TestModels.Identity };
        request.Inputs.Add(Input("in_FP32", "FP32", 1, 2));
        request.RawInputContents.Add(ByteString.CopyFrom(Bytes(1f, 2f)));

        await AssertInvalidArgumentAsync(request, $"takes {TestModels.Datatypes.Length} input(s)", "'in_BOOL' BOOL [N, 2]", "the request has 1");
    }

    [Fact]
    public async Task ModelInfer_StringCountMismatch_InvalidArgumentWithBothCounts()
    {
        var request = Typed(TestModels.StringEncoder, "color", "BYTES", c => c.BytesContents.AddRange(new[] { "red", "blue" }.Select(ByteString.CopyFromUtf8)), 3);

        await AssertInvalidArgumentAsync(request, "'color' has 2 values in contents.bytes_contents", "expected 3");
    }

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static byte[] EncodeStrings(params string[] values)
    {
        var stream = new MemoryStream();
        foreach (var value in values)
        {
            var utf8 = Encoding.UTF8.GetBytes(value);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
            stream.Write(length);
            stream.Write(utf8);
        }

        return stream.ToArray();
    }

    private async Task AssertInvalidArgumentAsync(ModelInferRequest request, params string[] detailSays)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        foreach (var text in detailSays)
        {
            Assert.Contains(text, error.Status.Detail);
        }
    }
}
