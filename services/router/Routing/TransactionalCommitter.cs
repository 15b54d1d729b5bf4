using System.Diagnostics;
using Confluent.Kafka;

namespace Mesh.Router.Routing;

/// <summary>
/// Exactly-once mode: the outputs of every record handled since the last commit and the consumed offsets commit
/// together in one Kafka transaction (<c>SendOffsetsToTransaction</c>), so a read_committed reader sees each
/// record's outputs exactly once across crashes and rebalances. Runs on the consume thread only.
/// </summary>
/// <remarks>
/// The embedded broker (librdkafka's mock cluster) accepts the transactional offset commit without storing it, so
/// the same offsets are also committed the ordinary way right after the transaction commits. On a real cluster
/// that second commit is redundant; on the mock it leaves a window: a crash between the two commits replays the
/// records of the last transaction (their outputs are then seen twice).
/// </remarks>
internal sealed partial class TransactionalCommitter(IProducer<byte[], byte[]> producer, ArmBatchers batchers, TimeSpan interval, ILogger logger)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly TransactionOffsets _offsets = new();
    private long _last = Stopwatch.GetTimestamp();

    public bool Due => Stopwatch.GetElapsedTime(_last) >= interval;

    /// <summary>Aborts whatever a previous life of this transactional id left open, then opens the first transaction.</summary>
    public void Start()
    {
        producer.InitTransactions(s_timeout);
        producer.BeginTransaction();
    }

    /// <summary>Called once a record was handed to the pipeline: its offset commits with the next transaction.</summary>
    public void OnHandled(ConsumeResult<byte[], byte[]> result) => _offsets.OnHandled(result.TopicPartition, result.Offset.Value);

    public void OnAssigned(IEnumerable<TopicPartition> partitions) => _offsets.OnAssigned(partitions);

    /// <summary>Revoked (after their last commit) or lost partitions: no later transaction commits offsets for them.</summary>
    public void OnRemoved(IEnumerable<TopicPartition> partitions) => _offsets.OnRemoved(partitions);

    /// <summary>Waits for every in-flight batch, then commits their outputs with the offsets and opens the next transaction.</summary>
    public void Commit(IConsumer<byte[], byte[]> consumer)
    {
        _last = Stopwatch.GetTimestamp();
        if (_offsets.Count == 0)
        {
            return;
        }

        // Every handled record's outputs are produced (into this transaction) once the primary batches are drained;
        // shadows produce outside the transaction and are not waited for.
        batchers.DrainPrimaryAsync().GetAwaiter().GetResult();
        var offsets = _offsets.Take();
        producer.SendOffsetsToTransaction(offsets, consumer.ConsumerGroupMetadata, s_timeout);
        producer.CommitTransaction(s_timeout);
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            LogOrdinaryCommitFailed(logger, e.Error.Reason);
        }

        LogCommitted(logger, offsets.Count);
        producer.BeginTransaction();
    }

    /// <summary>After a fatal error: nothing of the open transaction becomes visible; its records are consumed again.</summary>
    public void Abort()
    {
        try
        {
            producer.AbortTransaction(s_timeout);
        }
        catch (KafkaException e)
        {
            LogAbortFailed(logger, e.Error.Reason);
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Debug, Message = "Transaction committed with the offsets of {Partitions} partitions")]
    private static partial void LogCommitted(ILogger logger, int partitions);

    [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "The ordinary commit after the transaction failed (the transaction holds the offsets): {Reason}")]
    private static partial void LogOrdinaryCommitFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Aborting the open transaction failed: {Reason}")]
    private static partial void LogAbortFailed(ILogger logger, string reason);
}
