using System.Text.Json;
using Mesh.ModelHost.Inference;
using YamlDotNet.RepresentationModel;

namespace Mesh.ModelHost.Models;

/// <summary>A tensor of an MLflow model signature: name (may be absent), v2 datatype, shape (-1 open).</summary>
internal sealed record SignatureTensor(string? Name, string Datatype, long[] Shape);

/// <summary>
/// The <c>MLmodel</c> file MLflow writes beside a logged model: which file the onnx flavor loads
/// (<c>flavors.onnx.data</c>, as <c>mlflow.onnx.log_model</c> writes it), and the tensor signature: requests are
/// checked against its inputs, the graph's outputs against its outputs.
/// </summary>
internal sealed class MlmodelFile
{
    public const string FileName = "MLmodel";

    public required string OnnxModelFile { get; init; }

    /// <summary>Tensor-based input signature; null when the model has none or a column-based one.</summary>
    public IReadOnlyList<SignatureTensor>? Inputs { get; init; }

    /// <summary>Tensor-based output signature; null when the model has none or a column-based one.</summary>
    public IReadOnlyList<SignatureTensor>? Outputs { get; init; }

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

        // mlflow.onnx writes 'data'; 'onnx_model' is what older notes and hand-written files use.
        var file = (Child(onnx, "data") as YamlScalarNode)?.Value ?? (Child(onnx, "onnx_model") as YamlScalarNode)?.Value ?? "model.onnx";
        if (Path.IsPathRooted(file) || file.Contains("..", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: flavors.onnx.data '{file}' must be a file inside the model folder.");
        }

        var signature = Child(root, "signature") as YamlMappingNode;
        var inputs = (Child(signature, "inputs") as YamlScalarNode)?.Value;
        var outputs = (Child(signature, "outputs") as YamlScalarNode)?.Value;
        return new MlmodelFile
        {
            OnnxModelFile = file,
            Inputs = IsJson(inputs) ? ParseTensorSignature(inputs!, path) : null,
            Outputs = IsJson(outputs) ? ParseTensorSignature(outputs!, path) : null,
        };
    }

    /// <summary>
    /// Checks the graph's outputs against the output signature: every output it names exists, and a tensor
    /// output has its datatype and rank, and its fixed dimensions where both fix them.
    /// </summary>
    public void CheckOutputs(IReadOnlyList<OutputSpec> outputs, string source)
    {
        foreach (var tensor in Outputs ?? [])
        {
            var output = tensor.Name is null
                ? (outputs.Count == 1 ? outputs[0] : null)
                : outputs.FirstOrDefault(o => o.Name == tensor.Name);
            if (output is null)
            {
                if (tensor.Name is null)
                {
                    // An unnamed output of a model with several: nothing to match it against.
                    continue;
                }

                throw new InvalidDataException($"{source}: the MLmodel signature names output '{tensor.Name}', the model has {string.Join(", ", outputs.Select(o => o.Name))}.");
            }

            // A ZipMap or a class label is reshaped by the host; only a plain tensor must match as it is.
            if (output.Kind != OutputKind.Tensor)
            {
                continue;
            }

            var fixedMismatch = tensor.Shape.Length == output.Shape.Length
                && tensor.Shape.Zip(output.Shape).Any(d => d.First >= 0 && d.Second >= 0 && d.First != d.Second);
            if (tensor.Datatype != output.Datatype || tensor.Shape.Length != output.Shape.Length || fixedMismatch)
            {
                throw new InvalidDataException(
                    $"{source}: the MLmodel signature says output '{output.Name}' is {tensor.Datatype} {TensorDatatype.Format(tensor.Shape)}; the model has {output.Datatype} {TensorDatatype.Format(output.Shape)}.");
            }
        }
    }

    private static bool IsJson(string? value) => !string.IsNullOrWhiteSpace(value) && value.TrimStart().StartsWith('[');

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
