using System.Diagnostics;
using Confluent.Kafka;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Kafka.Telemetry;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Drift;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Page;
using Mesh.MetricsSink.Promotion;
using Mesh.MetricsSink.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Consuming;

/// <summary>
/// One consumer on the predictions, shadow-predictions, labels and dead-letter topics, on its own long-running
/// thread. A record's offset is stored once it was applied to the join state (with Redis: once Redis decided it),
/// or its dead letter acknowledged.
/// </summary>
internal sealed partial class MetricsConsumerWorker(
    IOptions<MetricsSinkOptions> options,
    KafkaClientFactory kafka,
    PredictionLabelJoiner joiner,
    WireFormatReader wireFormat,
    WireFormatWriter wireFormatWriter,
    MetricsSinkTelemetry telemetry,
    IHostApplicationLifetime lifetime,
    ILogger<MetricsConsumerWorker> logger,
    DriftMonitor? drift = null,
    RegisteredModelNames? modelNames = null,
    JoinTracer? tracer = null,
    ShedTally? shedding = null) : ConsumeLoopService
{
    private static readonly TimeSpan s_pollTimeout = TimeSpan.FromMilliseconds(100);

    protected override void Run(CancellationToken stoppingToken)
    {
        telemetry.AddZeros();
        var topics = kafka.Options.Topics;
        var handler = new MetricsRecordHandler(joiner, topics.Labels, topics.DeadLetter, wireFormat, drift, modelNames, tracer, shedding);
        var offsets = new OffsetTracker();
        // Records handed to the shared join state (Redis): their offsets are stored once it decided them.
        var deferred = new Queue<(long Sequence, TopicPartition Partition, long Offset)>();
        IProducer<byte[], byte[]>? producer = null;
        IConsumer<byte[], byte[]>? consumer = null;
        try
        {
            void OnFatal(Error error) => FatalError.Stop(lifetime, logger, $"fatal Kafka error {error.Code}: {error.Reason}");
            producer = kafka.CreateProducer("mesh-metrics-sink-dead-letters", OnFatal);
            var deadLetters = new DeadLetterPublisher(producer, topics.DeadLetter, "metrics-sink", logger, wireFormatWriter);
            consumer = kafka.CreateConsumer(options.Value.GroupId, "mesh-metrics-sink", OnFatal,
                (_, revoked) => offsets.Forget(revoked.Select(p => p.TopicPartition)));
            // The dead-letter topic too: the router's dead letters give each arm its dead-letter rate.
            string[] subscribed = [topics.Predictions, topics.ShadowPredictions, topics.Labels, topics.DeadLetter];
            consumer.Subscribe(subscribed);
            LogStarted(string.Join(", ", subscribed), options.Value.GroupId);

            while (!stoppingToken.IsCancellationRequested)
            {
                if (consumer.ConsumeNext(s_pollTimeout, logger) is { } record)
                {
                    Handle(consumer, handler, offsets, deadLetters, deferred, record);
                }

                StoreDecided(consumer, offsets, deferred);
            }
        }
        catch (Exception e) when (e is KafkaException or SchemaRegistryUnavailableException)
        {
            FatalError.Stop(lifetime, logger, "the consume loop failed: " + e.Message, e);
        }
        finally
        {
            KafkaShutdown.FlushAndClose(consumer, producer, logger);
        }
    }

    private void Handle(
        IConsumer<byte[], byte[]> consumer,
        MetricsRecordHandler handler,
        OffsetTracker offsets,
        DeadLetterPublisher deadLetters,
        Queue<(long Sequence, TopicPartition Partition, long Offset)> deferred,
        ConsumeResult<byte[], byte[]> record)
    {
        // A Prediction's span continues the record's own trace (the router's traceparent), so its join is in that trace.
        using var activity = KafkaTracing.StartProcess(MetricsSinkTelemetry.ActivitySource, record, options.Value.GroupId);
        var partition = record.TopicPartition;
        var offset = record.Offset.Value;
        offsets.Track(partition, offset);
        var result = handler.Handle(record);
        if (result.Applied)
        {
            activity?.SetTag("mesh.join.outcome", result.Outcome.ToString());
            Count(result);
            if (result.Outcome == JoinOutcome.Deferred && !result.IsDeadLetter)
            {
                deferred.Enqueue((joiner.EnqueuedThrough, partition, offset));
                return;
            }

            Store(consumer, partition, offsets.Complete(partition, offset));
            return;
        }

        telemetry.DeadLettered.Add(1);
        PublishDeadLetter(consumer, offsets, deadLetters, record, result.Error);
    }

    private void PublishDeadLetter(IConsumer<byte[], byte[]> consumer, OffsetTracker offsets, DeadLetterPublisher deadLetters, ConsumeResult<byte[], byte[]> record, string error)
    {
        var partition = record.TopicPartition;
        var offset = record.Offset.Value;
        deadLetters.PublishOrStop(record, "decode", error, Activity.Current, lifetime,
            onAcknowledged: () => Store(consumer, partition, offsets.Complete(partition, offset)));
    }

    private void StoreDecided(IConsumer<byte[], byte[]> consumer, OffsetTracker offsets, Queue<(long Sequence, TopicPartition Partition, long Offset)> deferred)
    {
        var applied = joiner.AppliedThrough;
        while (deferred.TryPeek(out var next) && next.Sequence <= applied)
        {
            deferred.Dequeue();
            Store(consumer, next.Partition, offsets.Complete(next.Partition, next.Offset));
        }
    }

    private void Count(HandleResult result)
    {
        if (result.IsDeadLetter)
        {
            if (result.DeadLetter is { } letter)
            {
                telemetry.RouterDeadLetters.Add(1, new KeyValuePair<string, object?>("experiment", letter.Experiment), new KeyValuePair<string, object?>("arm", letter.Arm));
            }
            else if (result.Error.Length > 0)
            {
                LogUnreadableDeadLetter(result.Error);
            }

            return;
        }

        switch (result.Outcome)
        {
            case JoinOutcome.Duplicate:
                telemetry.Duplicates.Add(1);
                return;
            case JoinOutcome.Joined:
                telemetry.Joined.Add(1);
                break;
            case JoinOutcome.Deferred:
                // Counted by RedisJoinState once Redis has decided it.
                return;
        }

        (result.IsLabel ? telemetry.Labels : telemetry.Predictions).Add(1);
    }

    private void Store(IConsumer<byte[], byte[]> consumer, TopicPartition partition, long? next)
    {
        if (next is not long value)
        {
            return;
        }

        try
        {
            consumer.StoreOffset(new TopicPartitionOffset(partition, value));
        }
        catch (KafkaException e)
        {
            // Revoked meanwhile; the new owner rereads from the last commit and the join absorbs the duplicate.
            LogStoreFailed(partition.ToString(), value, e.Error.Reason);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Consuming {Topics} as group {GroupId}")]
    private partial void LogStarted(string topics, string groupId);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Skipped a record of the dead-letter topic: {Reason}")]
    private partial void LogUnreadableDeadLetter(string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Could not store offset {Partition}@{Offset}: {Reason}")]
    private partial void LogStoreFailed(string partition, long offset, string reason);
}
