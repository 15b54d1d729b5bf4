using System.Text.Json;

namespace Mesh.ModelHost.Models;

/// <summary>
/// The optional <c>config.json</c> next to a <c>model.onnx</c> (written by <c>mesh train</c>). With it a
/// classifier is served as a <c>label</c> (BYTES) and a <c>probabilities</c> (FP32) output; without it
/// the model's FP32 outputs are served as they are.
/// </summary>
internal sealed class ModelConfigFile
{
    private static readonly JsonSerializerOptions s_jsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public string? Platform { get; set; }

    public ModelConfigInput? Input { get; set; }

    /// <summary>The ONNX output that holds the class probabilities, <c>[N, classes]</c>.</summary>
    public string? ProbabilityOutput { get; set; }

    /// <summary>Class names in score order.</summary>
    public List<string>? ClassNames { get; set; }

    public static ModelConfigFile? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<ModelConfigFile>(stream, s_jsonOptions)
            ?? throw new InvalidDataException($"{path} is empty.");
    }
}

internal sealed class ModelConfigInput
{
    /// <summary>The ONNX input that receives the FP32 <c>[N, F]</c> features; also its name on the wire.</summary>
    public string? Name { get; set; }

    public List<string>? FeatureNames { get; set; }
}
