using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Mesh.Kafka;

/// <summary>The orderly end of a consume loop: what is in flight is delivered before the group is left.</summary>
public static partial class KafkaShutdown
{
    /// <summary>
    /// Flushes the producer (so dead letters and outputs in flight release their offsets), closes the consumer
    /// (committing the stored offsets and leaving the group) and disposes both. A failed close is logged, not
    /// thrown: the group's session timeout then frees the partitions.
    /// </summary>
    public static void FlushAndClose(IConsumer<byte[], byte[]>? consumer, IProducer<byte[], byte[]>? producer, ILogger logger)
    {
        producer?.Flush(TimeSpan.FromSeconds(10));
        try
        {
            consumer?.Close();
        }
        catch (KafkaException e)
        {
            LogCloseFailed(logger, e.Error.Reason);
        }

        consumer?.Dispose();
        producer?.Dispose();
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Closing the consumer failed: {Reason}")]
    private static partial void LogCloseFailed(ILogger logger, string reason);
}
