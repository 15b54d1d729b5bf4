namespace Mesh.Kafka;

/// <summary>
/// Static group membership (KIP-345), section <c>Kafka:StaticMembership</c>. A member with a
/// <c>group.instance.id</c> that comes back under the same id within the session timeout gets its partitions
/// back at once, with no rebalance; a killed member's partitions wait only for its (shorter) session to expire.
/// </summary>
public sealed class StaticMembershipOptions
{
    /// <summary>Gives every consumer built by <see cref="KafkaClientFactory"/> a <c>group.instance.id</c> (default on).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The stable name of this instance. Default: the <c>POD_NAME</c> environment variable (set it from the
    /// pod's name with the Kubernetes downward API); without it, the host name plus the process id, so that two
    /// local replicas of one service never share an id (the broker would fence one of them).
    /// </summary>
    public string? InstanceName { get; set; }
}
