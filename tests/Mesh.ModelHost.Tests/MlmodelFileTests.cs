namespace Mesh.ModelHost.Tests;

/// <summary>The MLmodel file as mlflow.onnx.log_model writes it, and the output half of its signature.</summary>
public sealed class MlmodelFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mesh-mlmodel-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("flavors:\n  onnx:\n    data: iris.onnx\n", "iris.onnx")]
    [InlineData("flavors:\n  onnx:\n    onnx_model: legacy.onnx\n", "legacy.onnx")]
    [InlineData("flavors:\n  onnx:\n    data: new.onnx\n    onnx_model: old.onnx\n", "new.onnx")]
    [InlineData("flavors:\n  onnx:\n    onnx_version: 1.16.0\n", "model.onnx")]
    public void Read_OnnxFlavor_TakesDataThenOnnxModelThenDefault(string mlmodel, string expected)
    {
        File.WriteAllText(Path.Combine(_folder, "MLmodel"), mlmodel);

        Assert.Equal(expected, MlmodelFile.Read(_folder).OnnxModelFile);
    }

    [Fact]
    public void CheckOutputs_SignatureMatchesGraph_Passes()
    {
        var mlmodel = Write("""[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}, "name": "probs"}]""");

        mlmodel.CheckOutputs([new OutputSpec("probs", "FP32", [-1, 2], OutputKind.Tensor, 0)], "m");
    }

    [Theory]
    [InlineData("""[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}, "name": "scores"}]""", "names output 'scores', the model has probs")]
    [InlineData("""[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1, 2]}, "name": "probs"}]""", "output 'probs' is INT64 [-1, 2]; the model has FP32 [-1, 2]")]
    [InlineData("""[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}, "name": "probs"}]""", "output 'probs' is FP32 [-1, 3]; the model has FP32 [-1, 2]")]
    [InlineData("""[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}, "name": "probs"}]""", "output 'probs' is FP32 [-1]")]
    public void CheckOutputs_SignatureContradictsGraph_RefusesNamingBoth(string outputs, string expected)
    {
        var mlmodel = Write(outputs);

        var error = Assert.Throws<InvalidDataException>(() => mlmodel.CheckOutputs([new OutputSpec("probs", "FP32", [-1, 2], OutputKind.Tensor, 0)], "m"));

        Assert.Contains(expected, error.Message);
    }

    private MlmodelFile Write(string outputs)
    {
        File.WriteAllText(Path.Combine(_folder, "MLmodel"), $$"""
            flavors:
              onnx:
                data: model.onnx
            signature:
              inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}, "name": "x"}]'
              outputs: '{{outputs}}'
            """);
        return MlmodelFile.Read(_folder);
    }
}
