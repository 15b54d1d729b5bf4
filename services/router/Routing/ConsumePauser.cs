using Confluent.Kafka;

namespace Mesh.Router.Routing;

/// <summary>
/// Waits on the consume thread without buffering: pauses every assigned partition, keeps polling (so the group does
/// not consider this member dead and rebalances are served) and resumes once there is room. What was fetched before
/// the pause, or from partitions assigned meanwhile, goes to <paramref name="stash"/>, handled in order next.
/// </summary>
internal sealed partial class ConsumePauser(
    IConsumer<byte[], byte[]> consumer,
    StashedRecords stash,
    RecordCompletion completion,
    ILogger logger) : IConsumePauser
{
    public void WaitPaused(Func<bool> tryProceed, CancellationToken cancellationToken)
    {
        var paused = consumer.Assignment;
        consumer.Pause(paused);
        LogPaused(logger, paused.Count);
        try
        {
            while (!tryProceed())
            {
                cancellationToken.ThrowIfCancellationRequested();
                completion.StoreReady(consumer);
                if (consumer.Consume(TimeSpan.Zero) is { IsPartitionEOF: false } early)
                {
                    stash.Add(early);
                }
            }
        }
        finally
        {
            consumer.Resume(consumer.Assignment);
        }
    }

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Paused {Count} partitions: an arm's batches are all in flight or an experiment is at its rate limit")]
    private static partial void LogPaused(ILogger logger, int count);
}
