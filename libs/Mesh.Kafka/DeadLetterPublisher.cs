using System.Diagnostics;
using Confluent.Kafka;
using Google.Protobuf;
using ProtoTimestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Mesh.Contracts.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Kafka;

/// <summary>
/// Sends what a service cannot process to the dead-letter topic with the reason, the original bytes, key,
/// headers and position, so nothing is dropped and the record can be replayed.
/// </summary>
/// <remarks>With <paramref name="wireFormat"/> (a Schema Registry is configured) dead letters are written in Confluent's wire format.</remarks>
public sealed partial class DeadLetterPublisher(IProducer<byte[], byte[]> producer, string topic, string service, ILogger logger, SchemaRegistry.WireFormatWriter? wireFormat = null)
{
    /// <summary>The longest reason a dead letter carries; a longer one (a whole exception chain) is cut, and says so.</summary>
    public const int MaxErrorMessageLength = 8 * 1024;

    /// <summary>How often <see cref="PublishOrStop"/> sends a dead letter before the process gives up and stops.</summary>
    public const int MaxAttemptsBeforeStop = 3;

    private long _published;

    /// <summary>Records dead-lettered by this process.</summary>
    public long Published => Interlocked.Read(ref _published);

    public string Topic => topic;

    /// <summary>
    /// Builds the dead letter for a consumed record; <paramref name="experiment"/> and <paramref name="arm"/> say
    /// which experiment arm the record had been assigned to, when it had been (empty otherwise).
    /// </summary>
    public DeadLetter Create(ConsumeResult<byte[], byte[]> record, string errorClass, string errorMessage, int attempt = 1, string experiment = "", string arm = "")
    {
        var letter = new DeadLetter
        {
            SourceTopic = record.Topic,
            Partition = record.Partition.Value,
            Offset = record.Offset.Value,
            Key = record.Message.Key is null ? ByteString.Empty : ByteString.CopyFrom(record.Message.Key),
            Value = record.Message.Value is null ? ByteString.Empty : ByteString.CopyFrom(record.Message.Value),
            ErrorClass = errorClass,
            ErrorMessage = errorMessage.Length <= MaxErrorMessageLength
                ? errorMessage
                : string.Concat(errorMessage.AsSpan(0, MaxErrorMessageLength), $"... ({errorMessage.Length - MaxErrorMessageLength} more characters)"),
            Service = service,
            Time = ProtoTimestamp.FromDateTime(DateTime.UtcNow),
            // A replayed record that fails again counts the replay's attempt, so replays stop after their bound.
            Attempt = Math.Max(attempt, ReplayAttemptOf(record.Message.Headers)),
            Experiment = experiment,
            Arm = arm,
        };
        if (record.Message.Headers is not null)
        {
            foreach (var header in record.Message.Headers)
            {
                // Upstream headers may carry credentials (authorization, api keys): a dead-letter topic is read far
                // more widely than the source, so only the mesh's own headers and the trace context go along.
                if (IsMeshHeader(header.Key))
                {
                    letter.Headers[header.Key] = ByteString.CopyFrom(header.GetValueBytes());
                }
            }
        }

        return letter;
    }

    private static int ReplayAttemptOf(Headers? headers) =>
        headers is not null && headers.TryGetLastBytes(MeshHeaders.ReplayAttempt, out var bytes) &&
        int.TryParse(System.Text.Encoding.ASCII.GetString(bytes), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var replayAttempt)
            ? replayAttempt
            : 0;

    /// <summary>Whether a header of the source record is copied into its dead letter: the mesh's own and the trace context.</summary>
    public static bool IsMeshHeader(string key) =>
        key is MeshHeaders.TraceParent or MeshHeaders.TraceState or MeshHeaders.ContentType ||
        key.StartsWith("mesh-", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Produces the dead letter; <paramref name="onDelivered"/> runs once Kafka acknowledged it (true) or
    /// failed it (false), so the caller can store the source offset only after the dead letter is safe.
    /// <paramref name="activity"/> (the record's processing activity, or null) gives the dead letter its
    /// <c>traceparent</c>; it is a parameter because the caller's record activity is rarely <c>Activity.Current</c>.
    /// </summary>
    public void Publish(ConsumeResult<byte[], byte[]> record, string errorClass, string errorMessage, Action<bool> onDelivered, Activity? activity, int attempt = 1, string experiment = "", string arm = "")
    {
        var letter = Create(record, errorClass, errorMessage, attempt, experiment, arm);
        if (experiment.Length == 0)
        {
            LogDeadLetter(logger, record.Topic, record.Partition.Value, record.Offset.Value, errorClass, errorMessage);
        }
        else
        {
            LogArmDeadLetter(logger, record.Topic, record.Partition.Value, record.Offset.Value, experiment, arm, errorClass, errorMessage);
        }

        Send(record, letter, onDelivered, activity);
    }

    private void Send(ConsumeResult<byte[], byte[]> record, DeadLetter letter, Action<bool> onDelivered, Activity? activity)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = record.Message.Key ?? [],
            Value = wireFormat is null ? letter.ToByteArray() : wireFormat.Encode(topic, letter),
            Headers = MeshHeaders.Create<DeadLetter>(activity),
        };
        try
        {
            producer.Produce(topic, message, report =>
            {
                // The broker's own limit (the topic's max.message.bytes) can be lower than the producer's.
                if (report.Error.Code == ErrorCode.MsgSizeTooLarge && WithoutValue(record, letter) is { } smaller)
                {
                    Send(record, smaller, onDelivered, activity);
                    return;
                }

                var ok = report.Error.Code == ErrorCode.NoError;
                if (ok)
                {
                    Interlocked.Increment(ref _published);
                }
                else
                {
                    LogDeadLetterFailed(logger, topic, report.Error.Reason);
                }

                onDelivered(ok);
            });
        }
        catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.MsgSizeTooLarge && WithoutValue(record, letter) is { } smaller)
        {
            // Too large for the producer (message.max.bytes): the record would otherwise fail on every attempt and
            // hold back its partition's offsets for good. The dead letter goes without the original, which it names.
            Send(record, smaller, onDelivered, activity);
        }
    }

    /// <summary>The dead letter without the original value (its size recorded), or null when it carried none already.</summary>
    private DeadLetter? WithoutValue(ConsumeResult<byte[], byte[]> record, DeadLetter letter)
    {
        if (letter.Value.IsEmpty)
        {
            return null;
        }

        LogValueOmitted(logger, record.Topic, record.Partition.Value, record.Offset.Value, letter.Value.Length);
        var smaller = letter.Clone();
        smaller.OmittedValueBytes = letter.Value.Length;
        smaller.Value = ByteString.Empty;
        return smaller;
    }

    /// <summary>
    /// As <see cref="Publish"/>, but a dead letter Kafka did not acknowledge (the producer has already retried it
    /// within its own timeout) is sent again, up to <paramref name="maxAttempts"/> sends; then
    /// <paramref name="onGaveUp"/> runs with the number of sends, so the caller can stop rather than leave the
    /// record's offset unstored, which would hold back every later offset of its partition for good.
    /// </summary>
    public void PublishWithRetries(ConsumeResult<byte[], byte[]> record, string errorClass, string errorMessage, Activity? activity, int maxAttempts, Action onAcknowledged, Action<int> onGaveUp)
    {
        Send(1);

        void Send(int sends) => Publish(record, errorClass, errorMessage, ok =>
        {
            if (ok)
            {
                onAcknowledged();
            }
            else if (sends < maxAttempts)
            {
                LogDeadLetterRetry(logger, record.Topic, record.Partition.Value, record.Offset.Value, sends);
                Send(sends + 1);
            }
            else
            {
                onGaveUp(sends);
            }
        }, activity);
    }

    /// <summary>
    /// As <see cref="PublishWithRetries"/> with up to <see cref="MaxAttemptsBeforeStop"/> sends; when none is
    /// acknowledged the process stops (<see cref="FatalError"/>): restarted, it reads the record again and
    /// dead-letters it again.
    /// </summary>
    public void PublishOrStop(ConsumeResult<byte[], byte[]> record, string errorClass, string errorMessage, Activity? activity, IHostApplicationLifetime lifetime, Action onAcknowledged) =>
        PublishWithRetries(record, errorClass, errorMessage, activity, MaxAttemptsBeforeStop, onAcknowledged,
            sends => FatalError.Stop(lifetime, logger, $"the dead letter for {record.TopicPartition}@{record.Offset.Value} was not acknowledged after {sends} attempts"));

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Dead-lettering {Topic}[{Partition}]@{Offset}: {ErrorClass}: {Reason}")]
    private static partial void LogDeadLetter(ILogger logger, string topic, int partition, long offset, string errorClass, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Dead-lettering {Topic}[{Partition}]@{Offset} of experiment {Experiment}, arm {Arm}: {ErrorClass}: {Reason}")]
    private static partial void LogArmDeadLetter(ILogger logger, string topic, int partition, long offset, string experiment, string arm, string errorClass, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Dead letter for {Topic}[{Partition}]@{Offset} was not acknowledged (send {Sends}); sending it again")]
    private static partial void LogDeadLetterRetry(ILogger logger, string topic, int partition, long offset, int sends);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Dead letter for {Topic}[{Partition}]@{Offset} is too large for Kafka with its original value ({Bytes} bytes); sending it without the value, which stays at that position")]
    private static partial void LogValueOmitted(ILogger logger, string topic, int partition, long offset, int bytes);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Producing to dead-letter topic {Topic} failed: {Reason}")]
    private static partial void LogDeadLetterFailed(ILogger logger, string topic, string reason);
}
