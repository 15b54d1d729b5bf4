using System.Diagnostics;
using Confluent.Kafka;
using Mesh.Consumer.Handling;
using Mesh.Consumer.Options;
using Mesh.Consumer.Output;
using Mesh.Consumer.Telemetry;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Kafka.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Consumer.Consuming;

/// <summary>
/// The consume loop, on its own long-running thread: writes each prediction as a JSON line, flushes when idle or
/// every <c>Consumer:FlushIntervalMs</c>, and stores the offsets of what was flushed (at-least-once).
/// </summary>
internal sealed partial class PredictionConsumerWorker(
    IOptions<ConsumerOptions> options,
    KafkaClientFactory kafka,
    IPredictionSink sink,
    WireFormatReader wireFormat,
    WireFormatWriter wireFormatWriter,
    ConsumerTelemetry telemetry,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<PredictionConsumerWorker> logger) : ConsumeLoopService
{
    private static readonly TimeSpan s_pollTimeout = TimeSpan.FromMilliseconds(100);

    protected override void Run(CancellationToken stoppingToken)
    {
        telemetry.AddZeros();
        var o = options.Value;
        var topics = o.ResolveTopics(kafka.Options.Topics.Predictions, kafka.Options.Topics.ShadowPredictions);
        var deduplicator = o.Deduplication.Enabled
            ? new PredictionDeduplicator(o.Deduplication.MaxRequestIds, TimeSpan.FromMinutes(o.Deduplication.MaxAgeMinutes), time)
            : null;
        var handler = new PredictionRecordHandler(sink, new OffsetTracker(), PredictionFilter.From(o), wireFormat, deduplicator);
        IProducer<byte[], byte[]>? producer = null;
        IConsumer<byte[], byte[]>? consumer = null;
        try
        {
            void OnFatal(Error error) => FatalError.Stop(lifetime, logger, $"fatal Kafka error {error.Code}: {error.Reason}");
            producer = kafka.CreateProducer("mesh-consumer-dead-letters", OnFatal);
            var deadLetters = new DeadLetterPublisher(producer, kafka.Options.Topics.DeadLetter, "consumer", logger, wireFormatWriter);
            consumer = kafka.CreateConsumer(o.GroupId, "mesh-consumer", OnFatal, (c, revoked) =>
            {
                // Still assigned while this runs: flush and store what is done before the partitions move.
                Store(c, handler.Flush(force: true));
                handler.Forget(revoked.Select(p => p.TopicPartition));
            });
            consumer.Subscribe(topics);
            LogStarted(string.Join(", ", topics), o.GroupId, o.ParsedFormat.ToString(), sink.Description);

            var flushInterval = TimeSpan.FromMilliseconds(o.FlushIntervalMs);
            var lastFlush = Stopwatch.GetTimestamp();
            while (!stoppingToken.IsCancellationRequested)
            {
                var record = consumer.ConsumeNext(s_pollTimeout, logger);
                if (record is not null)
                {
                    Handle(consumer, handler, deadLetters, record);
                }

                // Flush when idle (low latency for a trickle) or on the interval (batched writes under load).
                if (handler.Unflushed > 0 && (record is null || Stopwatch.GetElapsedTime(lastFlush) >= flushInterval))
                {
                    Store(consumer, handler.Flush());
                    telemetry.Flushes.Add(1);
                    lastFlush = Stopwatch.GetTimestamp();
                }
            }

            Store(consumer, handler.Flush(force: true));
        }
        catch (Exception e) when (e is KafkaException or IOException or UnauthorizedAccessException or SchemaRegistryUnavailableException)
        {
            FatalError.Stop(lifetime, logger, "the consume loop failed: " + e.Message, e);
        }
        finally
        {
            KafkaShutdown.FlushAndClose(consumer, producer, logger);
        }
    }

    private void Handle(IConsumer<byte[], byte[]> consumer, PredictionRecordHandler handler, DeadLetterPublisher deadLetters, ConsumeResult<byte[], byte[]> record)
    {
        using var activity = KafkaTracing.StartProcess(ConsumerTelemetry.ActivitySource, record, options.Value.GroupId);
        var (writtenBefore, tombstonesBefore, duplicatesBefore) = (handler.Written, handler.Tombstones, handler.Duplicates);
        if (handler.TryHandle(record, out var error))
        {
            (handler.Written > writtenBefore ? telemetry.Written
                : handler.Tombstones > tombstonesBefore ? telemetry.Tombstones
                : handler.Duplicates > duplicatesBefore ? telemetry.Duplicates
                : telemetry.Filtered).Add(1);
            return;
        }

        telemetry.DeadLettered.Add(1);
        PublishDeadLetter(consumer, handler, deadLetters, record, error);
    }

    private void PublishDeadLetter(IConsumer<byte[], byte[]> consumer, PredictionRecordHandler handler, DeadLetterPublisher deadLetters, ConsumeResult<byte[], byte[]> record, string error)
    {
        var partition = record.TopicPartition;
        var offset = record.Offset.Value;
        deadLetters.PublishOrStop(record, "decode", error, Activity.Current, lifetime,
            onAcknowledged: () =>
            {
                if (handler.CompleteDeadLetter(partition, offset) is { } next)
                {
                    Store(consumer, [next]);
                }
            });
    }

    private void Store(IConsumer<byte[], byte[]> consumer, IReadOnlyList<TopicPartitionOffset> offsets)
    {
        foreach (var offset in offsets)
        {
            try
            {
                consumer.StoreOffset(offset);
            }
            catch (KafkaException e)
            {
                // The partition was revoked meanwhile; its new owner rereads from the last commit.
                LogStoreFailed(offset.ToString(), e.Error.Reason);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Consuming {Topics} as group {GroupId}, writing {Format} to {Output}")]
    private partial void LogStarted(string topics, string groupId, string format, string output);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Could not store offset {Offset}: {Reason}")]
    private partial void LogStoreFailed(string offset, string reason);
}
