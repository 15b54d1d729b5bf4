using OutputTensor = Inference.ModelInferResponse.Types.InferOutputTensor;
using TensorMetadata = Inference.ModelMetadataResponse.Types.TensorMetadata;

namespace Mesh.Router.Tests;

/// <summary>
/// An arm's output contract: settled from ModelMetadata and the spec when the arm starts (a server that cannot answer
/// it is refused, naming the output), then used to read every answer by output name, whatever shape the server uses.
/// </summary>
public sealed class OutputContractTests
{
    private static readonly string[] s_iris = ["setosa", "versicolor", "virginica"];

    private static ModelMetadataResponse Metadata(params (string Name, string Datatype, long[] Shape)[] outputs)
    {
        var metadata = new ModelMetadataResponse { Name = "iris" };
        foreach (var (name, datatype, shape) in outputs)
        {
            metadata.Outputs.Add(new TensorMetadata { Name = name, Datatype = datatype, Shape = { shape } });
        }

        return metadata;
    }

    [Fact]
    public void Resolve_NamedLabelTheServerLacks_RefusedNamingTheOutput()
    {
        var metadata = Metadata(("output_label", "INT64", [-1]), ("output_probability", "FP64", [-1, 3]));

        var error = Assert.Throws<InvalidOperationException>(() => OutputContract.Resolve(metadata, "label", null, null));

        Assert.Contains("has no output 'label'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'output_label' INT64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_LabelOutputOfAScoreType_RefusedNamingTheOutputAndType()
    {
        var metadata = Metadata(("probabilities", "FP32", [-1, 3]));

        var error = Assert.Throws<InvalidOperationException>(() => OutputContract.Resolve(metadata, "probabilities", null, null));

        Assert.Contains("output 'probabilities' is FP32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoOutputTheRouterReads_RefusedListingTheOutputs()
    {
        var metadata = Metadata(("embedding", "INT8", [-1, 16]));

        var error = Assert.Throws<InvalidOperationException>(() => OutputContract.Resolve(metadata, null, null, null));

        Assert.Contains("'embedding' INT8 [-1, 16]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ClassesOfAnotherCountThanTheScores_RefusedNamingTheOutput()
    {
        var metadata = Metadata(("probabilities", "FP64", [-1, 3]));

        var error = Assert.Throws<InvalidOperationException>(() => OutputContract.Resolve(metadata, null, null, ["a", "b"]));

        Assert.Contains("output 'probabilities' has 3 scores per row but 2 class names", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ClassNamesInMetadata_UsedUnlessTheSpecGivesItsOwn()
    {
        var metadata = Metadata(("label", "INT64", [-1]), ("probabilities", "FP32", [-1, 3]));
        metadata.Parameters[OutputContract.ClassNamesParameter] = new InferParameter { StringParam = """["setosa","versicolor","virginica"]""" };

        var fromServer = OutputContract.Resolve(metadata, null, null, null);
        var fromSpec = OutputContract.Resolve(metadata, null, null, ["a", "b", "c"]);

        Assert.Equal(s_iris, fromServer.ClassNames!);
        Assert.Equal(["a", "b", "c"], fromSpec.ClassNames!);
    }

    [Fact]
    public void Resolve_Defaults_PicksBytesLabelOverNumericAndRequestsOnlyTheContractOutputs()
    {
        var metadata = Metadata(("logits", "FP32", [-1, 3]), ("index", "INT64", [-1]), ("label", "BYTES", [-1]), ("probabilities", "FP32", [-1, 3]));

        var contract = OutputContract.Resolve(metadata, null, "probabilities", null);
        var defaults = OutputContract.Resolve(metadata, null, null, null);

        Assert.Equal((null, "probabilities"), (contract.LabelOutput, contract.ScoresOutput));
        Assert.Equal(["probabilities"], contract.Requested.Select(r => r.Name));
        Assert.Equal(("label", "logits"), (defaults.LabelOutput, defaults.ScoresOutput));
        Assert.Equal(["label", "logits"], defaults.Requested.Select(r => r.Name));
    }

    [Fact]
    public void Read_RawInt64LabelWithSpecClasses_LabelsAreTheClassNames()
    {
        var contract = OutputContract.Resolve(Metadata(("label", "INT64", [-1])), null, null, s_iris);
        var response = Response(("label", "INT64", [3], Raw(2L, 0L, 1L)));

        var output = InferResponseReader.Read(response, 3, contract);

        Assert.Equal(["virginica", "setosa", "versicolor"], Enumerable.Range(0, 3).Select(output.LabelOf));
        Assert.Equal(0, output.ClassCount);
    }

    [Fact]
    public void Read_TypedInt64LabelWithoutClassNames_LabelIsTheNumberAsText()
    {
        var contract = OutputContract.Resolve(Metadata(("label", "INT64", [-1])), null, null, null);
        var response = Response(("label", "INT64", [3], null));
        response.Outputs[0].Contents = new InferTensorContents { Int64Contents = { 2, 0, 117 } };

        var output = InferResponseReader.Read(response, 3, contract);

        Assert.Equal(["2", "0", "117"], Enumerable.Range(0, 3).Select(output.LabelOf));
    }

    [Fact]
    public void Read_RawInt32Label_MappedToClassNames()
    {
        var contract = OutputContract.Resolve(Metadata(("label", "INT32", [-1, 1])), null, null, s_iris);
        var response = Response(("label", "INT32", [2, 1], Raw(1, 2)));

        var output = InferResponseReader.Read(response, 2, contract);

        Assert.Equal(["versicolor", "virginica"], Enumerable.Range(0, 2).Select(output.LabelOf));
    }

    [Fact]
    public void Read_Fp64ProbabilitiesOnly_LabelIsTheBestClassAndScoresAreKept()
    {
        var contract = OutputContract.Resolve(Metadata(("predict_proba", "FP64", [-1, 3])), null, null, s_iris);
        var response = Response(("predict_proba", "FP64", [2, 3], Raw(0.1, 0.7, 0.2, 0.8, 0.15, 0.05)));

        var output = InferResponseReader.Read(response, 2, contract);

        Assert.Equal(["versicolor", "setosa"], Enumerable.Range(0, 2).Select(output.LabelOf));
        Assert.Equal([0.8f, 0.15f, 0.05f], output.ScoresOf(1).ToArray());
        Assert.Equal(s_iris, output.ClassNames);
    }

    [Fact]
    public void Read_TypedFp64ScoresAndInt64Label_BothRead()
    {
        var contract = OutputContract.Resolve(Metadata(("label", "INT64", [-1]), ("proba", "FP64", [-1, 3])), null, null, s_iris);
        var response = Response(("proba", "FP64", [1, 3], null), ("label", "INT64", [1], null));
        response.Outputs[0].Contents = new InferTensorContents { Fp64Contents = { 0.2, 0.3, 0.5 } };
        response.Outputs[1].Contents = new InferTensorContents { Int64Contents = { 2 } };

        var output = InferResponseReader.Read(response, 1, contract);

        Assert.Equal("virginica", output.LabelOf(0));
        Assert.Equal([0.2f, 0.3f, 0.5f], output.ScoresOf(0).ToArray());
    }

    [Fact]
    public void Read_ScoresFoundByNameNotByDatatype_IgnoresAnEarlierFp32Output()
    {
        var contract = OutputContract.Resolve(Metadata(("logits", "FP32", [-1, 2]), ("probabilities", "FP32", [-1, 2])), null, "probabilities", ["no", "yes"]);
        var response = Response(("logits", "FP32", [1, 2], Raw(9f, -9f)), ("probabilities", "FP32", [1, 2], Raw(0.25f, 0.75f)));

        var output = InferResponseReader.Read(response, 1, contract);

        Assert.Equal("yes", output.LabelOf(0));
        Assert.Equal([0.25f, 0.75f], output.ScoresOf(0).ToArray());
    }

    [Fact]
    public void Read_NumericLabelOutsideTheClasses_ThrowsInvalidDataNamingTheValue()
    {
        var contract = OutputContract.Resolve(Metadata(("label", "INT64", [-1])), null, null, s_iris);
        var response = Response(("label", "INT64", [1], Raw(7L)));

        var error = Assert.Throws<InvalidDataException>(() => InferResponseReader.Read(response, 1, contract));

        Assert.Contains("label 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ResponseWithoutTheContractLabel_ThrowsInvalidDataNamingTheOutput()
    {
        var contract = OutputContract.Resolve(Metadata(("label", "BYTES", [-1]), ("probabilities", "FP32", [-1, 3])), null, null, s_iris);
        var response = Response(("probabilities", "FP32", [1, 3], Raw(0.2f, 0.3f, 0.5f)));

        var error = Assert.Throws<InvalidDataException>(() => InferResponseReader.Read(response, 1, contract));

        Assert.Contains("no output 'label'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyOf_OutputsOrClassesChanged_TheArmIsBuiltAgain()
    {
        var arm = new ArmDefinition { Name = "a", Endpoint = "http://127.0.0.1:1", Model = "m", Version = "1" };
        var named = new ArmDefinition { Name = "a", Endpoint = "http://127.0.0.1:1", Model = "m", Version = "1", Outputs = new ArmOutputsDefinition { Label = "label" } };
        var classes = new ArmDefinition { Name = "a", Endpoint = "http://127.0.0.1:1", Model = "m", Version = "1", Classes = ["x", "y"] };

        var keys = new[] { arm, named, classes }.Select(a => ArmRuntime.KeyOf("e", a, false, TimeSpan.FromSeconds(1), null)).ToArray();

        Assert.Equal(3, keys.Distinct().Count());
    }

    private static ModelInferResponse Response(params (string Name, string Datatype, long[] Shape, byte[]? Raw)[] outputs)
    {
        var response = new ModelInferResponse { ModelName = "iris", ModelVersion = "1" };
        foreach (var (name, datatype, shape, raw) in outputs)
        {
            response.Outputs.Add(new OutputTensor { Name = name, Datatype = datatype, Shape = { shape } });
            if (raw is not null)
            {
                response.RawOutputContents.Add(ByteString.CopyFrom(raw));
            }
        }

        return response;
    }

    private static byte[] Raw(params long[] values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        }

        return bytes;
    }

    private static byte[] Raw(params int[] values)
    {
        var bytes = new byte[values.Length * sizeof(int)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * sizeof(int)), values[i]);
        }

        return bytes;
    }

    private static byte[] Raw(params double[] values)
    {
        var bytes = new byte[values.Length * sizeof(double)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)), values[i]);
        }

        return bytes;
    }

    private static byte[] Raw(params float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }
}
