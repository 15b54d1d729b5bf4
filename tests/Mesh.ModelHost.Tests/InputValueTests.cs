namespace Mesh.ModelHost.Tests;

/// <summary>Values a tensor's datatype or its model does not take: NaN and ±Infinity, integers past their type's range.</summary>
[Collection(ModelHostCollection.Name)]
public sealed class InputValueTests(ModelHostFixture host)
{
    private GRPCInferenceService.GRPCInferenceServiceClient Client => host.Client;

    [Fact]
    public async Task ModelInfer_NaNForModelThatRejectsIt_InvalidArgumentNamingElementAndRow()
    {
        float[] rows = [1, 2, 3, 4, float.NaN, 6];

        var error = await InvalidArgument(Raw(TestModels.NoNaN, rows, 2, inputName: "x"));
        var accepted = await Client.ModelInferAsync(Raw(TestModels.AcceptsNonFinite, rows, 2, inputName: "x"));

        Assert.Contains("'x' has NaN at element 4 (row 1)", error.Status.Detail);
        Assert.Contains(TestModels.NoNaN, error.Status.Detail);
        Assert.True(float.IsNaN(DecodeFp32(Output(accepted, "probs").Bytes)[2]));
    }

    [Fact]
    public async Task ModelInfer_NonFiniteInputsByDefault_InvalidArgumentNamingTensorElementAndValue()
    {
        var fp32 = await InvalidArgument(Raw(TestModels.MatMulSoftmax, [1, 2, float.PositiveInfinity], 1, inputName: "x"));
        var fp32NaN = await InvalidArgument(Raw(TestModels.MatMulSoftmax, [1, 2, 3, float.NaN, 5, 6], 2, inputName: "x"));
        var fp64Request = new ModelInferRequest { ModelName = TestModels.Regressor };
        fp64Request.Inputs.Add(Input("x", "FP64", 2, 2));
        fp64Request.RawInputContents.Add(ByteString.CopyFrom(RawBytes(1.0, 2.0, double.NegativeInfinity, 4.0)));
        var fp64 = await InvalidArgument(fp64Request);
        var fp16Request = new ModelInferRequest { ModelName = TestModels.HalfIdentity };
        fp16Request.Inputs.Add(Input("in_FP16", "FP16", 1, 2));
        fp16Request.RawInputContents.Add(ByteString.CopyFrom(RawBytes((Half)1, Half.NaN)));
        var fp16 = await InvalidArgument(fp16Request);

        Assert.Contains("'x' has +Infinity at element 2 (row 0)", fp32.Status.Detail);
        Assert.Contains(TestModels.MatMulSoftmax, fp32.Status.Detail);
        Assert.Contains("acceptNonFinite", fp32.Status.Detail);
        Assert.Contains("'x' has NaN at element 3 (row 1)", fp32NaN.Status.Detail);
        Assert.Contains("has -Infinity at element 2 (row 1)", fp64.Status.Detail);
        Assert.Contains("'in_FP16' has NaN at element 1 (row 0)", fp16.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_NonFiniteDeepInALargeBatch_FoundAtItsElementAndRow()
    {
        // Past several vector-wide blocks of finite values, and in the scalar tail after the last whole block.
        var rows = Enumerable.Range(0, 61 * 3).Select(i => (float)i / 7).ToArray();
        var finite = await Client.ModelInferAsync(Raw(TestModels.MatMulSoftmax, rows, 61, inputName: "x"));
        rows[41] = float.NaN;
        var nan = await InvalidArgument(Raw(TestModels.MatMulSoftmax, rows, 61, inputName: "x"));
        rows[41] = 1;
        rows[182] = float.NegativeInfinity;
        var tail = await InvalidArgument(Raw(TestModels.MatMulSoftmax, rows, 61, inputName: "x"));

        Assert.Equal([61L, 2L], Output(finite, "probs").Tensor.Shape);
        Assert.Contains("'x' has NaN at element 41 (row 13)", nan.Status.Detail);
        Assert.Contains("'x' has -Infinity at element 182 (row 60)", tail.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_InfinityForModelThatAcceptsNonFinite_Scored()
    {
        var response = await Client.ModelInferAsync(Raw(TestModels.AcceptsNonFinite, [float.NegativeInfinity, 0, 0], 1, inputName: "x"));

        Assert.Equal([1L, 2L], Output(response, "probs").Tensor.Shape);
    }

    [Theory]
    [InlineData("INT8", 300L)]
    [InlineData("INT8", -129L)]
    [InlineData("INT16", 40000L)]
    [InlineData("INT16", -32769L)]
    [InlineData("UINT8", 256L)]
    [InlineData("UINT16", 70000L)]
    public async Task ModelInfer_TypedIntegerOutsideTheDatatype_InvalidArgumentNamingTensorAndValue(string datatype, long value)
    {
        var request = new ModelInferRequest { ModelName = TestModels.Identity };
        var input = Input("in_" + datatype, datatype, 1, 2);
        input.Contents = new InferTensorContents();
        if (datatype.StartsWith('U'))
        {
            input.Contents.UintContents.AddRange([1, (uint)value]);
        }
        else
        {
            input.Contents.IntContents.AddRange([1, (int)value]);
        }

        request.Inputs.Add(input);

        var error = await InvalidArgument(request);

        Assert.Contains($"input 'in_{datatype}'", error.Status.Detail);
        Assert.Contains($"[1] ({value})", error.Status.Detail);
        Assert.Contains($"outside the range of {datatype}", error.Status.Detail);
    }

    private async Task<RpcException> InvalidArgument(ModelInferRequest request)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ModelInferAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        return error;
    }
}
