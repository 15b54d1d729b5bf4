using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Mesh.Kafka;

/// <summary>The poll step every consume loop shares.</summary>
public static partial class ConsumerExtensions
{
    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the next record. Returns null when none came, at a partition's
    /// end, or on a non-fatal consume error, which is logged: librdkafka recovers from those by itself (a leader
    /// moving, a broker restarting). A fatal error still throws, so the loop ends and the process stops.
    /// </summary>
    public static ConsumeResult<byte[], byte[]>? ConsumeNext(this IConsumer<byte[], byte[]> consumer, TimeSpan timeout, ILogger logger)
    {
        try
        {
            var record = consumer.Consume(timeout);
            return record is null || record.IsPartitionEOF ? null : record;
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            LogConsumeError(logger, e.Error.Code, e.Error.Reason);
            return null;
        }
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Consume error {Code}: {Reason}")]
    private static partial void LogConsumeError(ILogger logger, ErrorCode code, string reason);
}
