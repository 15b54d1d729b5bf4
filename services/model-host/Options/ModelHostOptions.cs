using System.ComponentModel.DataAnnotations;
using Mesh.ModelHost.Models;

namespace Mesh.ModelHost.Options;

internal sealed class ModelHostOptions
{
    public const string SectionName = "ModelHost";

    /// <summary>Folder laid out <c>&lt;model-name&gt;/&lt;version&gt;/model.onnx</c> (+ optional <c>config.json</c>).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "ModelHost:ModelRepository is required: a folder laid out <model-name>/<version>/model.onnx.")]
    public string ModelRepository { get; set; } = DefaultModelRepository;

    /// <summary>
    /// ONNX Runtime threads per Run. One by default: the host runs on few cores next to gRPC and Kafka,
    /// and concurrent requests already use the other cores.
    /// </summary>
    [Range(1, 64, ErrorMessage = "ModelHost:IntraOpThreads must be between 1 and 64.")]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>ONNX Runtime threads that run independent graph branches in parallel; 1 runs the graph sequentially.</summary>
    [Range(1, 64, ErrorMessage = "ModelHost:InterOpThreads must be between 1 and 64.")]
    public int InterOpThreads { get; set; } = 1;

    /// <summary>ONNX Runtime graph optimisation: Disabled, Basic, Extended or All.</summary>
    public string GraphOptimizationLevel { get; set; } = "All";

    /// <summary>The most rows one ModelInfer call may carry; larger batches are refused instead of exhausting memory.</summary>
    [Range(1, 10_000_000, ErrorMessage = "ModelHost:MaxBatchRows must be between 1 and 10000000.")]
    public int MaxBatchRows { get; set; } = 65536;

    /// <summary>Dynamic batching defaults for every model (<c>ModelHost:Batching:*</c>).</summary>
    public BatchingOptions Batching { get; set; } = new();

    /// <summary>The session settings every model gets unless its config.json says otherwise.</summary>
    public ModelSessionSettings DefaultSessionSettings() =>
        new(IntraOpThreads, InterOpThreads, ParseGraphOptimizationLevel(GraphOptimizationLevel) ?? Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL);

    /// <summary>Reads Disabled, Basic, Extended or All (any case); null for anything else.</summary>
    public static Microsoft.ML.OnnxRuntime.GraphOptimizationLevel? ParseGraphOptimizationLevel(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "disabled" => Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic" => Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended" => Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all" => Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
        _ => null,
    };

    public static string DefaultModelRepository =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".mesh", "models");

    /// <summary>The repository as a full path, with a leading <c>~/</c> meaning the user's home folder.</summary>
    public string ResolveModelRepository()
    {
        var path = ModelRepository.Trim();
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~').TrimStart('/'));
        }

        return Path.GetFullPath(path);
    }
}

internal sealed class BatchingOptions
{
    /// <summary>Coalesce concurrent requests to a model into one ONNX Runtime call.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The most rows one coalesced call carries (a single larger request still runs alone).</summary>
    [Range(1, 1_000_000, ErrorMessage = "ModelHost:Batching:MaxBatchSize must be between 1 and 1000000.")]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// How long a batch waits for more requests after the first, in microseconds. 0: take only what is
    /// already queued, which adds no latency and still coalesces under load.
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "ModelHost:Batching:MaxQueueDelayMicroseconds must be between 0 and 1000000.")]
    public int MaxQueueDelayMicroseconds { get; set; }

    /// <summary>Requests waiting per model version before new ones are refused with RESOURCE_EXHAUSTED.</summary>
    [Range(1, 1_000_000, ErrorMessage = "ModelHost:Batching:MaxQueueSize must be between 1 and 1000000.")]
    public int MaxQueueSize { get; set; } = 1024;

    public BatchingSettings ToSettings() => new(Enabled, MaxBatchSize, MaxQueueDelayMicroseconds, MaxQueueSize);
}
