using System.ComponentModel.DataAnnotations;

namespace Mesh.Router.Options;

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

    /// <summary>How often the experiment file is checked for changes; 0 turns hot reload off.</summary>
    [Range(0, 3_600_000, ErrorMessage = "Router:ReloadIntervalMs must be between 0 (off) and 3600000.")]
    public int ReloadIntervalMs { get; set; } = 1000;

    public BatchingOptions Batching { get; set; } = new();

    public ShadowOptions Shadow { get; set; } = new();

    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    public BanditOptions Bandit { get; set; } = new();

    public AdminOptions Admin { get; set; } = new();

    public BackpressureOptions Backpressure { get; set; } = new();

    public ExactlyOnceOptions ExactlyOnce { get; set; } = new();

    public FeatureOptions Features { get; set; } = new();

    public DeduplicationOptions Deduplication { get; set; } = new();

    public SheddingOptions Shedding { get; set; } = new();
}

/// <summary>Consume-transform-produce in Kafka transactions (<c>Router:ExactlyOnce</c>).</summary>
internal sealed class ExactlyOnceOptions
{
    public bool Enabled { get; set; }

    /// <summary>
    /// The producer's transactional id; empty means <c>{GroupId}-{host name}</c>. A restarted router must reuse its
    /// id (that aborts what its previous life left open); two routers must never share one.
    /// </summary>
    public string? TransactionalId { get; set; }

    /// <summary>How often the consumed offsets and the outputs so far are committed together as one transaction.</summary>
    [Range(10, 60_000, ErrorMessage = "Router:ExactlyOnce:CommitIntervalMs must be between 10 and 60000.")]
    public int CommitIntervalMs { get; set; } = 200;

    public string ResolveTransactionalId(string groupId) =>
        string.IsNullOrWhiteSpace(TransactionalId) ? $"{groupId}-{Environment.MachineName}" : TransactionalId;
}

/// <summary>Micro-batching per arm (<c>Router:Batching</c>).</summary>
internal sealed class BatchingOptions
{
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>The longest a record waits for its batch to fill; short, so latency stays low at low rates.</summary>
    public double MaxDelayMs { get; set; } = 2;

    /// <summary>Batches per arm that may be open or in flight at once; beyond that the partitions are paused.</summary>
    public int MaxInFlightBatches { get; set; } = 4;

    /// <summary>Deadline of one ModelInfer call (tried twice, or once when the experiment has a fallback).</summary>
    public int CallTimeoutMs { get; set; } = 5000;
}

/// <summary>Shadow calls (<c>Router:Shadow</c>): their own budget, so they can never hold up the primary path.</summary>
internal sealed class ShadowOptions
{
    /// <summary>
    /// Batches per shadow open or in flight; a record that finds them all busy is not copied to the shadow (shed).
    /// Generous by default: a batch holds its slot from opening through its model call, so a budget of 2 was
    /// momentarily full at a few hundred records a second and shed 1.5-2.6 % of shadow predictions with no real
    /// pressure. Shadows still never wait, so this bounds only the shadow's own work in flight.
    /// </summary>
    [Range(1, 1024, ErrorMessage = "Router:Shadow:MaxInFlightBatches must be between 1 and 1024.")]
    public int MaxInFlightBatches { get; set; } = 16;

    /// <summary>Deadline of one shadow ModelInfer call, unless the shadow sets <c>timeoutMs</c>.</summary>
    [Range(1, 600_000, ErrorMessage = "Router:Shadow:CallTimeoutMs must be between 1 and 600000.")]
    public int CallTimeoutMs { get; set; } = 1000;
}

/// <summary>Circuit breaking per arm (<c>Router:CircuitBreaker</c>).</summary>
internal sealed class CircuitBreakerOptions
{
    /// <summary>Consecutive failed calls that open the circuit.</summary>
    [Range(1, 10_000, ErrorMessage = "Router:CircuitBreaker:FailureThreshold must be between 1 and 10000.")]
    public int FailureThreshold { get; set; } = 3;

    /// <summary>How long an open circuit refuses calls before one probe is let through.</summary>
    [Range(1, 3_600_000, ErrorMessage = "Router:CircuitBreaker:BreakMs must be between 1 and 3600000.")]
    public int BreakMs { get; set; } = 5000;
}

/// <summary>Bandit state (<c>Router:Bandit</c>).</summary>
internal sealed class BanditOptions
{
    /// <summary>A StackExchange.Redis configuration string (e.g. <c>127.0.0.1:6379</c>); empty keeps state in memory.</summary>
    public string? Redis { get; set; }

    [Required(AllowEmptyStrings = false, ErrorMessage = "Router:Bandit:KeyPrefix must not be empty.")]
    public string KeyPrefix { get; set; } = "mesh:bandit:";

    /// <summary>How often each router reads the shared state and writes its pull counts.</summary>
    [Range(10, 600_000, ErrorMessage = "Router:Bandit:RefreshMs must be between 10 and 600000.")]
    public int RefreshMs { get; set; } = 1000;

    /// <summary>Seed of the router's random choices; 0 picks one per process.</summary>
    public int Seed { get; set; }
}

/// <summary>The admin API (<c>Router:Admin</c>).</summary>
internal sealed class AdminOptions
{
    /// <summary>The bearer token every admin request must carry; empty turns the admin API off (every call refused).</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Where the admin gRPC service listens (HTTP/2 cleartext, e.g. <c>http://127.0.0.1:8091</c>); empty serves the
    /// admin API as HTTP/JSON on <c>Urls</c> only.
    /// </summary>
    public string? GrpcUrl { get; set; }
}

/// <summary>When batches are all in flight (<c>Router:Backpressure</c>).</summary>
internal sealed class BackpressureOptions
{
    /// <summary>How long the consume thread waits for a batch slot (or a rate-limit token) before pausing its partitions.</summary>
    [Range(0, 60_000, ErrorMessage = "Router:Backpressure:PauseAfterMs must be between 0 and 60000.")]
    public int PauseAfterMs { get; set; } = 50;

    /// <summary>
    /// How long a batch keeps retrying a model host that answers RESOURCE_EXHAUSTED (its queue is full) before the
    /// batch counts as failed; meanwhile the arm's batches stay in flight, so the consume thread pauses.
    /// </summary>
    [Range(1, 3_600_000, ErrorMessage = "Router:Backpressure:HostBusyMaxWaitMs must be between 1 and 3600000.")]
    public int HostBusyMaxWaitMs { get; set; } = 120_000;

    /// <summary>
    /// How long a batch of an arm without a fallback waits for a model host that cannot be reached (no connection, or
    /// its circuit open) before its records are dead-lettered; long enough for a model host pod to restart.
    /// </summary>
    [Range(1, 3_600_000, ErrorMessage = "Router:Backpressure:HostUnavailableMaxWaitMs must be between 1 and 3600000.")]
    public int HostUnavailableMaxWaitMs { get; set; } = 60_000;
}
