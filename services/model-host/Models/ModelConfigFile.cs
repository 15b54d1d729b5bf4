using System.Text.Json;
using Mesh.ModelHost.Batching;
using Mesh.ModelHost.Options;

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

    /// <summary>Overrides <c>ModelHost:IntraOpThreads</c> for this model.</summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>Overrides <c>ModelHost:InterOpThreads</c> for this model.</summary>
    public int? InterOpThreads { get; set; }

    /// <summary>Overrides <c>ModelHost:GraphOptimizationLevel</c> for this model (Disabled, Basic, Extended, All).</summary>
    public string? GraphOptimizationLevel { get; set; }

    /// <summary>
    /// True when the model takes NaN and ±Infinity in its floating-point inputs (a tree ensemble that reads
    /// NaN as missing); overrides <c>ModelHost:AcceptNonFinite</c>.
    /// </summary>
    public bool? AcceptNonFinite { get; set; }

    /// <summary>Overrides <c>ModelHost:Batching</c> for this model.</summary>
    public ModelConfigBatching? DynamicBatching { get; set; }

    /// <summary>
    /// Makes this version a chain instead of one graph (its folder then has no model.onnx): the repository models it
    /// runs in order, as <c>name</c> (its highest version) or <c>name/version</c>.
    /// </summary>
    public List<string>? Steps { get; set; }

    /// <summary>The defaults with this model's overrides applied; a bad override fails this model's load.</summary>
    public ModelSessionSettings SessionSettings(ModelSessionSettings defaults, string path)
    {
        var level = defaults.GraphOptimizationLevel;
        if (GraphOptimizationLevel is not null)
        {
            level = ModelHostOptions.ParseGraphOptimizationLevel(GraphOptimizationLevel)
                ?? throw new InvalidDataException($"{path}: graphOptimizationLevel '{GraphOptimizationLevel}' is not one of Disabled, Basic, Extended, All.");
        }

        if (IntraOpThreads is < 1 or > 64 || InterOpThreads is < 1 or > 64)
        {
            throw new InvalidDataException($"{path}: intraOpThreads and interOpThreads must be between 1 and 64.");
        }

        return new ModelSessionSettings(IntraOpThreads ?? defaults.IntraOpThreads, InterOpThreads ?? defaults.InterOpThreads, level, AcceptNonFinite ?? defaults.AcceptNonFinite);
    }

    /// <summary>Whether the file lists <c>steps</c>; a file that cannot be read lists none (its chain load reports why).</summary>
    public static bool DeclaresSteps(string path)
    {
        try
        {
            return Read(path)?.Steps is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

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

internal sealed class ModelConfigBatching
{
    public bool? Enabled { get; set; }

    public int? MaxBatchSize { get; set; }

    public int? MaxQueueDelayMicroseconds { get; set; }

    public int? MaxQueueSize { get; set; }

    public int? MaxConcurrentBatches { get; set; }

    public BatchingSettings Apply(BatchingSettings defaults, string path)
    {
        if (MaxBatchSize is < 1 || MaxQueueDelayMicroseconds is < 0 or > 10_000_000 || MaxQueueSize is < 1 || MaxConcurrentBatches is < 1 or > 64)
        {
            throw new InvalidDataException(
                $"{path}: dynamicBatching needs maxBatchSize >= 1, maxQueueDelayMicroseconds 0..10000000, maxQueueSize >= 1 and maxConcurrentBatches 1..64.");
        }

        return new BatchingSettings(
            Enabled ?? defaults.Enabled,
            MaxBatchSize ?? defaults.MaxBatchSize,
            MaxQueueDelayMicroseconds ?? defaults.MaxQueueDelayMicroseconds,
            MaxQueueSize ?? defaults.MaxQueueSize,
            MaxConcurrentBatches ?? defaults.MaxConcurrentBatches);
    }
}
