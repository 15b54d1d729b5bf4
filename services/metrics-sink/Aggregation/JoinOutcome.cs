namespace Mesh.MetricsSink.Aggregation;

/// <summary>What applying one record did.</summary>
internal enum JoinOutcome
{
    /// <summary>Kept until its counterpart arrives.</summary>
    Pending,

    /// <summary>Matched with its counterpart (a label may join several arms' predictions at once).</summary>
    Joined,

    /// <summary>Seen before (at-least-once redelivery): counted once, ignored now.</summary>
    Duplicate,

    /// <summary>Cannot ever join (a label without a request id).</summary>
    Unmatchable,

    /// <summary>
    /// Queued for the shared join state (Redis): counted, and metered by <see cref="RedisJoinState"/>, once Redis answers.
    /// </summary>
    Deferred,
}
