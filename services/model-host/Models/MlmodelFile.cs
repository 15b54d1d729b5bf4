using System.Text.Json;
using Mesh.ModelHost.Inference;
using YamlDotNet.RepresentationModel;

namespace Mesh.ModelHost.Models;

/// <summary>A tensor of an MLflow model signature: name (may be absent), v2 datatype, shape (-1 open).</summary>
internal sealed record SignatureTensor(string? Name, string Datatype, long[] Shape);

/// <summary>
/// The <c>MLmodel</c> file MLflow writes beside a logged model: which file the onnx flavor loads, and the
/// tensor signature requests are checked against.
/// </summary>
internal sealed class MlmodelFile
{
    public const string FileName = "MLmodel";

    public required string OnnxModelFile { get; init; }

    /// <summary>Tensor-based input signature; null when the model has none or a column-based one.</summary>
    public IReadOnlyList<SignatureTensor>? Inputs { get; init; }

    public static MlmodelFile Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{folder} has no MLmodel file: it is not an MLflow model.");
        }

        var yaml = new YamlStream();
        using (var reader = File.OpenText(path))
        {
            yaml.Load(reader);
        }

        var root = yaml.Documents.Count > 0 ? yaml.Documents[0].RootNode as YamlMappingNode : null;
        var flavors = Child(root, "flavors") as YamlMappingNode;
        if (Child(flavors, "onnx") is not YamlMappingNode onnx)
        {
            var names = flavors?.Children.Keys.Select(k => k.ToString()) ?? [];
            throw new InvalidDataException($"{path} has no onnx flavor (flavors: {string.Join(", ", names)}); log the model with mlflow.onnx.");
        }

        var file = (Child(onnx, "onnx_model") as YamlScalarNode)?.Value ?? "model.onnx";
        if (Path.IsPathRooted(file) || file.Contains("..", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: onnx_model '{file}' must be a file inside the model folder.");
        }

        var inputs = (Child(Child(root, "signature") as YamlMappingNode, "inputs") as YamlScalarNode)?.Value;
        return new MlmodelFile { OnnxModelFile = file, Inputs = inputs is null ? null : ParseTensorSignature(inputs, path) };
    }

    // The signature is a JSON string inside the YAML: [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "x"}].
    private static List<SignatureTensor>? ParseTensorSignature(string json, string path)
    {
        using var document = JsonDocument.Parse(json);
        var tensors = new List<SignatureTensor>();
        foreach (var element in document.RootElement.EnumerateArray())
        {
            if (!element.TryGetProperty("type", out var type) || type.GetString() != "tensor")
            {
                // Column-based (pandas) signatures describe DataFrames, not tensors: nothing to check here.
                return null;
            }

            var spec = element.GetProperty("tensor-spec");
            var dtype = spec.GetProperty("dtype").GetString() ?? "";
            var datatype = dtype switch
            {
                "bool" => "BOOL",
                "int8" => "INT8",
                "int16" => "INT16",
                "int32" => "INT32",
                "int64" => "INT64",
                "uint8" => "UINT8",
                "uint16" => "UINT16",
                "uint32" => "UINT32",
                "uint64" => "UINT64",
                "float16" => "FP16",
                "float32" => "FP32",
                "float64" => "FP64",
                "str" or "object" or "bytes" => TensorDatatype.Bytes,
                _ => throw new InvalidDataException($"{path}: signature dtype '{dtype}' has no Open Inference Protocol datatype."),
            };
            var shape = spec.TryGetProperty("shape", out var dims) ? dims.EnumerateArray().Select(d => d.GetInt64()).ToArray() : [];
            var name = element.TryGetProperty("name", out var n) ? n.GetString() : null;
            tensors.Add(new SignatureTensor(name, datatype, shape));
        }

        return tensors;
    }

    private static YamlNode? Child(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;
}
