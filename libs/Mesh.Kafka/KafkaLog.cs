using Confluent.Kafka;
using Mesh.Kafka.Health;
using Microsoft.Extensions.Logging;

namespace Mesh.Kafka;

internal static partial class KafkaLog
{
    public static void OnError(ILogger logger, Error error, Action<Error>? onFatal)
    {
        if (error.IsFatal)
        {
            Fatal(logger, error.Code, error.Reason);
            onFatal?.Invoke(error);
        }
        else
        {
            // Transient errors (a broker restarting, a timeout) are retried by librdkafka itself.
            Transient(logger, error.Code, error.Reason);
        }
    }

    public static void OnRepeatedError(ILogger logger, Error error) => Repeated(logger, error.Code, error.Reason);

    public static void OnLog(ILogger logger, LogMessage message, KafkaClientHealth tracker)
    {
        if (message.Facility == "FAIL" && !tracker.IsFirstConnectFailure())
        {
            Librdkafka(logger, LogLevel.Debug, message.Facility, message.Message);
            return;
        }

        OnLog(logger, message);
    }

    public static void OnLog(ILogger logger, LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        Librdkafka(logger, level, message.Facility, message.Message);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Critical, Message = "Fatal Kafka error {Code}: {Reason}")]
    private static partial void Fatal(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Kafka error {Code}: {Reason}")]
    private static partial void Transient(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Kafka error {Code} (still no broker): {Reason}")]
    private static partial void Repeated(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 3, Message = "librdkafka {Facility}: {Text}")]
    private static partial void Librdkafka(ILogger logger, LogLevel level, string facility, string text);
}
