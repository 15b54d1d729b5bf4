using Confluent.Kafka;

namespace Mesh.Router.Routing;

/// <summary>What the router does when partitions move to another member (at-least-once mode).</summary>
internal sealed partial class RebalanceHandler(ArmBatchers batchers, IProducer<byte[], byte[]> producer, RecordCompletion completion, ILogger<RebalanceHandler> logger)
{
    /// <summary>
    /// Before partitions move to another router: finish what is in flight and flush, so their offsets are stored
    /// and committed now rather than the new owner redoing the work.
    /// </summary>
    public void OnRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        batchers.DrainAsync().GetAwaiter().GetResult();
        producer.Flush(TimeSpan.FromSeconds(10));
        completion.StoreReady(consumer);
        try
        {
            consumer.Commit();
        }
        catch (KafkaException e)
        {
            LogCommitSkipped(logger, e.Error.Reason);
        }

        completion.Forget(partitions.Select(p => p.TopicPartition));
    }

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Commit on revoke skipped: {Reason}")]
    private static partial void LogCommitSkipped(ILogger logger, string reason);
}
