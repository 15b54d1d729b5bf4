namespace Mesh.ModelHost.Tests;

/// <summary>Builds ModelInfer requests the way the router does and decodes the v2 answers.</summary>
internal static class InferRequests
{
    // Known rows of data/iris.csv: the first of each species.
    public static readonly float[] Setosa = [5.1f, 3.5f, 1.4f, 0.2f];
    public static readonly float[] Versicolor = [7.0f, 3.2f, 4.7f, 1.4f];
    public static readonly float[] Virginica = [6.3f, 3.3f, 6.0f, 2.5f];

    public static ModelInferRequest Raw(string model, float[] rowMajor, int rows, string id = "", string inputName = "Features")
    {
        var request = new ModelInferRequest { ModelName = model, ModelVersion = "1", Id = id };
        request.Inputs.Add(Input(inputName, "FP32", rows, rowMajor.Length / rows));
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(rowMajor.AsSpan())));
        return request;
    }

    public static ModelInferRequest Typed(string model, float[] rowMajor, int rows)
    {
        var request = Typed(model, "Features", "FP32", c => c.Fp32Contents.AddRange(rowMajor), rows, rowMajor.Length / rows);
        request.ModelVersion = "1";
        return request;
    }

    /// <summary>A request for <paramref name="model"/> with one input whose values <paramref name="fill"/> writes in the typed contents.</summary>
    public static ModelInferRequest Typed(string model, string inputName, string datatype, Action<InferTensorContents> fill, params long[] shape)
    {
        var request = new ModelInferRequest { ModelName = model };
        var input = Input(inputName, datatype, shape);
        input.Contents = new InferTensorContents();
        fill(input.Contents);
        request.Inputs.Add(input);
        return request;
    }

    public static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, params long[] shape)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        input.Shape.AddRange(shape);
        return input;
    }

    public static (ModelInferResponse.Types.InferOutputTensor Tensor, ByteString Bytes) Output(ModelInferResponse response, string name)
    {
        var index = response.Outputs.Select(o => o.Name).ToList().IndexOf(name);
        Assert.True(index >= 0, $"no output '{name}' in the response ({string.Join(", ", response.Outputs.Select(o => o.Name))})");
        return (response.Outputs[index], response.RawOutputContents[index]);
    }

    /// <summary>Decodes v2 raw BYTES: each element is a 4-byte little-endian length and the UTF-8 bytes.</summary>
    public static List<string> DecodeBytes(ByteString raw)
    {
        var span = raw.Span;
        var values = new List<string>();
        while (!span.IsEmpty)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(span);
            values.Add(Encoding.UTF8.GetString(span.Slice(4, length)));
            span = span[(4 + length)..];
        }

        return values;
    }

    public static float[] DecodeFp32(ByteString raw) => MemoryMarshal.Cast<byte, float>(raw.Span).ToArray();

    public static float[] Concat(params float[][] rows) => [.. rows.SelectMany(r => r)];

    /// <summary>Values in the v2 raw (little-endian) encoding.</summary>
    public static byte[] RawBytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
