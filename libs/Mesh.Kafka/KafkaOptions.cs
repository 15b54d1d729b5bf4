using System.ComponentModel.DataAnnotations;

namespace Mesh.Kafka;

/// <summary>
/// Kafka settings shared by every service (configuration section <c>Kafka</c>). Client settings under
/// <c>Kafka:Producer</c> and <c>Kafka:Consumer</c> bind straight into Confluent's <c>ProducerConfig</c>
/// and <c>ConsumerConfig</c> (e.g. <c>Kafka__Producer__LingerMs=5</c>).
/// </summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    /// <summary>
    /// The cluster's bootstrap servers. When empty, the address the embedded broker wrote to
    /// <see cref="BootstrapFile"/> is used.
    /// </summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Where the embedded broker publishes its address (default <c>~/.mesh/bootstrap.servers</c>).</summary>
    public string BootstrapFile { get; set; } = DefaultBootstrapFile;

    /// <summary>How long to wait at start for <see cref="BootstrapFile"/> to appear.</summary>
    [Range(0, 600)]
    public int BootstrapWaitSeconds { get; set; } = 30;

    [Required]
    public MeshTopics Topics { get; set; } = new();

    /// <summary>Static group membership of every consumer (<c>Kafka:StaticMembership</c>).</summary>
    [Required]
    public StaticMembershipOptions StaticMembership { get; set; } = new();

    /// <summary>When Kafka makes the service unhealthy, and when it ends it (<c>Kafka:Health</c>).</summary>
    [Required]
    public KafkaHealthOptions Health { get; set; } = new();

    /// <summary>The default location shared by the embedded broker and the services.</summary>
    public static string DefaultBootstrapFile =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".mesh", "bootstrap.servers");
}

/// <summary>Topic names (the defaults in docs/architecture.md), all configurable under <c>Kafka:Topics</c>.</summary>
public sealed class MeshTopics
{
    [Required(AllowEmptyStrings = false)]
    public string Features { get; set; } = "mesh.features.v1";

    [Required(AllowEmptyStrings = false)]
    public string Predictions { get; set; } = "mesh.predictions.v1";

    [Required(AllowEmptyStrings = false)]
    public string ShadowPredictions { get; set; } = "mesh.shadow-predictions.v1";

    [Required(AllowEmptyStrings = false)]
    public string Labels { get; set; } = "mesh.labels.v1";

    [Required(AllowEmptyStrings = false)]
    public string DeadLetter { get; set; } = "mesh.dead-letter.v1";

    /// <summary>Every topic the mesh uses, for creating them on a broker.</summary>
    public IReadOnlyList<string> All => [Features, Predictions, ShadowPredictions, Labels, DeadLetter];
}
