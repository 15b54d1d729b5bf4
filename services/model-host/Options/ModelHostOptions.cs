using System.ComponentModel.DataAnnotations;
using Mesh.ModelHost.Batching;

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

    /// <summary>
    /// Earlier versions of a model that keep serving after a new version is published (an MLflow alias
    /// moved), so routers pinned to them are not cut off; the oldest beyond this many are unloaded.
    /// </summary>
    [Range(0, 100, ErrorMessage = "ModelHost:RetainPreviousVersions must be between 0 and 100.")]
    public int RetainPreviousVersions { get; set; } = 1;

    /// <summary>Dynamic batching defaults for every model (<c>ModelHost:Batching:*</c>).</summary>
    public BatchingOptions Batching { get; set; } = new();

    /// <summary>
    /// Let NaN and ±Infinity through in FP16/FP32/FP64 inputs for every model; off by default, so they are
    /// refused (INVALID_ARGUMENT / 400) unless a model's config.json says <c>acceptNonFinite: true</c>.
    /// </summary>
    public bool AcceptNonFinite { get; set; }

    /// <summary>Models served from the MLflow registry (<c>ModelHost:Mlflow:*</c>).</summary>
    public MlflowSourceOptions Mlflow { get; set; } = new();

    /// <summary>The shortest admin token accepted, as for the router's.</summary>
    public const int MinAdminTokenLength = 16;

    /// <summary>Bearer token of the admin calls (<c>POST /v2/repository/models/{name}/load</c>), 16 characters or more; unset disables them.</summary>
    public string? AdminToken { get; set; }

    /// <summary>The session settings every model gets unless its config.json says otherwise.</summary>
    public ModelSessionSettings DefaultSessionSettings() =>
        new(IntraOpThreads, InterOpThreads, ParseGraphOptimizationLevel(GraphOptimizationLevel) ?? Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL, AcceptNonFinite);

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
    /// How long a batch that is not full may wait for more requests, in microseconds from its oldest
    /// request's arrival. 0: take only what is queued, which adds no latency and still coalesces under load.
    /// Below 1000 (a timer tick) the wait only lasts while request handlers are runnable; from 1000 on the
    /// batcher sleeps until a request arrives or the delay ends.
    /// </summary>
    [Range(0, 10_000_000, ErrorMessage = "ModelHost:Batching:MaxQueueDelayMicroseconds must be between 0 and 10000000.")]
    public int MaxQueueDelayMicroseconds { get; set; }

    /// <summary>Requests waiting per model version before new ones are refused with RESOURCE_EXHAUSTED.</summary>
    [Range(1, 1_000_000, ErrorMessage = "ModelHost:Batching:MaxQueueSize must be between 1 and 1000000.")]
    public int MaxQueueSize { get; set; } = 1024;

    /// <summary>
    /// Batches of one model version that may run at the same time (Triton's instance count). One by default:
    /// requests that arrive while a batch runs then form the next batch, and on few cores a second batch
    /// in flight mostly competes with the gRPC server for the same cores.
    /// </summary>
    [Range(1, 64, ErrorMessage = "ModelHost:Batching:MaxConcurrentBatches must be between 1 and 64.")]
    public int MaxConcurrentBatches { get; set; } = 1;

    public BatchingSettings ToSettings() => new(Enabled, MaxBatchSize, MaxQueueDelayMicroseconds, MaxQueueSize, MaxConcurrentBatches);
}

internal sealed class MlflowSourceOptions
{
    /// <summary><c>ModelHost:Mlflow:Models:N:Uri</c> (models:/name@alias, models:/name/version, runs:/id/path) and optional <c>Name</c>.</summary>
    public List<MlflowModelOptions> Models { get; set; } = [];

    /// <summary>The tracking server; when empty, <c>MLFLOW_TRACKING_URI</c>.</summary>
    public string? TrackingUri { get; set; }

    /// <summary>
    /// <c>ModelHost:Mlflow:AllowLocalArtifacts</c>: copy a model whose artifact URI the server answers as <c>file:</c> or a
    /// local path. Off by default: such a path is on the tracking server's disk, and copying whatever this machine
    /// has there would serve the wrong files (or any file the server names). On only where this machine mounts the
    /// server's artifact store at the same path.
    /// </summary>
    public bool AllowLocalArtifacts { get; set; }

    /// <summary>How often aliases are resolved again; 0 turns polling off (the admin call still works).</summary>
    [Range(0, 86400, ErrorMessage = "ModelHost:Mlflow:PollSeconds must be between 0 and 86400.")]
    public int PollSeconds { get; set; } = 30;

    /// <summary>Where downloaded model versions are kept.</summary>
    public string CacheDir { get; set; } = "~/.mesh/mlflow-cache";

    public string ResolveCacheDir()
    {
        var path = CacheDir.Trim();
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~').TrimStart('/'));
        }

        return Path.GetFullPath(path);
    }

    /// <summary>MLflow's environment variables, with <see cref="TrackingUri"/> on top when set.</summary>
    public Mesh.Mlflow.MlflowClientOptions ClientOptions()
    {
        var options = Mesh.Mlflow.MlflowClientOptions.FromEnvironment();
        options.AllowLocalArtifacts = AllowLocalArtifacts;
        if (!string.IsNullOrWhiteSpace(TrackingUri))
        {
            options.TrackingUri = new Uri(TrackingUri.Trim());
        }

        return options;
    }
}

internal sealed class MlflowModelOptions
{
    public string Uri { get; set; } = "";

    /// <summary>The name the model is served under; defaults to the registered model's name (required for runs:/ URIs and chains).</summary>
    public string? Name { get; set; }

    /// <summary>
    /// <c>ModelHost:Mlflow:Models:N:Steps:K</c>: instead of <see cref="Uri"/>, the URIs of a chain's steps in order, served
    /// as one model under <see cref="Name"/>; a step's alias moving loads and swaps the whole chain.
    /// </summary>
    public List<string> Steps { get; set; } = [];
}
