using System.Diagnostics;
using Confluent.Kafka;
using Mesh.Consumer.Handling;
using Mesh.Consumer.Options;
using Mesh.Consumer.Output;
using Mesh.Consumer.Telemetry;
using Mesh.Kafka;
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
    ConsumerTelemetry telemetry,
    IHostApplicationLifetime lifetime,
    ILogger<PredictionConsumerWorker> logger) : BackgroundService
{
    private static readonly TimeSpan s_pollTimeout = TimeSpan.FromMilliseconds(100);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var topics = o.ResolveTopics(kafka.Options.Topics.Predictions, kafka.Options.Topics.ShadowPredictions);
        var writer = new PredictionLineWriter(sink, new OffsetTracker(), PredictionFilter.From(o));
        IProducer<byte[], byte[]>? producer = null;
        IConsumer<byte[], byte[]>? consumer = null;
        try
        {
            void OnFatal(Error error) => FatalError.Stop(lifetime, logger, $"fatal Kafka error {error.Code}: {error.Reason}");
            producer = kafka.CreateProducer("mesh-consumer-dead-letters", OnFatal);
            var deadLetters = new DeadLetterPublisher(producer, kafka.Options.Topics.DeadLetter, "consumer", logger);
            consumer = kafka.CreateConsumer(o.GroupId, "mesh-consumer", OnFatal, (c, revoked) =>
            {
                // Still assigned while this runs: flush and store what is done before the partitions move.
                Store(c, writer.Flush(force: true));
                writer.Forget(revoked.Select(p => p.TopicPartition));
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
                    Handle(consumer, writer, deadLetters, record);
                }

                // Flush when idle (low latency for a trickle) or on the interval (batched writes under load).
                if (writer.Unflushed > 0 && (record is null || Stopwatch.GetElapsedTime(lastFlush) >= flushInterval))
                {
                    Store(consumer, writer.Flush());
                    telemetry.Flushes.Add(1);
                    lastFlush = Stopwatch.GetTimestamp();
                }
            }

            Store(consumer, writer.Flush(force: true));
        }
        catch (Exception e) when (e is KafkaException or IOException or UnauthorizedAccessException)
        {
            FatalError.Stop(lifetime, logger, "the consume loop failed: " + e.Message, e);
        }
        finally
        {
            KafkaShutdown.FlushAndClose(consumer, producer, logger);
        }
    }

    private void Handle(IConsumer<byte[], byte[]> consumer, PredictionLineWriter writer, DeadLetterPublisher deadLetters, ConsumeResult<byte[], byte[]> record)
    {
        using var activity = ConsumerTelemetry.ActivitySource.StartActivity(
            $"{record.Topic} process", ActivityKind.Consumer, MeshHeaders.ExtractTraceContext(record.Message.Headers));
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.source.name", record.Topic);
        var writtenBefore = writer.Written;
        if (writer.TryWrite(record, out var error))
        {
            (writer.Written > writtenBefore ? telemetry.Written : telemetry.Filtered).Add(1);
            return;
        }

        telemetry.DeadLettered.Add(1);
        var partition = record.TopicPartition;
        var offset = record.Offset.Value;
        deadLetters.Publish(record, "decode", error, activity: Activity.Current, onDelivered: ok =>
        {
            if (ok)
            {
                if (writer.CompleteDeadLetter(partition, offset) is { } next)
                {
                    Store(consumer, [next]);
                }
            }
            else
            {
                // Its offset stays unreleased: after a restart the record is read and dead-lettered again.
                LogDeadLetterLost(partition.ToString(), offset);
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

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Dead letter for {Partition}@{Offset} was not acknowledged; its offset stays unstored")]
    private partial void LogDeadLetterLost(string partition, long offset);

}
