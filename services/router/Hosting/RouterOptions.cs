using System.ComponentModel.DataAnnotations;

namespace Mesh.Router.Hosting;

/// <summary>The router's settings (configuration section <c>Router</c>).</summary>
internal sealed class RouterOptions
{
    public const string SectionName = "Router";

    /// <summary>The experiment spec (YAML); relative paths resolve against the working directory.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Router:ExperimentFile is required: the path of the experiment YAML.")]
    public string ExperimentFile { get; set; } = "";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Router:GroupId must not be empty.")]
    public string GroupId { get; set; } = "mesh-router";

    /// <summary>How long the router waits at start for every arm's model to answer ModelReady.</summary>
    [Range(1, 3600, ErrorMessage = "Router:ModelWaitSeconds must be between 1 and 3600.")]
    public int ModelWaitSeconds { get; set; } = 60;

    public BatchingOptions Batching { get; set; } = new();
}

/// <summary>Micro-batching per arm (<c>Router:Batching</c>).</summary>
internal sealed class BatchingOptions
{
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>The longest a record waits for its batch to fill; short, so latency stays low at low rates.</summary>
    public double MaxDelayMs { get; set; } = 2;

    /// <summary>Batches per arm that may be open or in flight at once; beyond that the consume thread waits.</summary>
    public int MaxInFlightBatches { get; set; } = 4;

    /// <summary>Deadline of one ModelInfer call (it is tried twice before the batch is dead-lettered).</summary>
    public int CallTimeoutMs { get; set; } = 5000;
}
