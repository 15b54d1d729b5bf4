using System.Text;
using Confluent.Kafka;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Router.Batching;
using Mesh.Router.Deduplication;
using Mesh.Router.Experiments;
using Mesh.Router.Telemetry;

namespace Mesh.Router.Routing;

/// <summary>
/// Writes a record's outputs: Predictions (primary and shadow) and dead letters, with the record's trace context,
/// and hands each primary output's delivery to <see cref="RecordCompletion"/>.
/// </summary>
internal sealed partial class OutputWriter(
    IProducer<byte[], byte[]> producer,
    ShadowProducer shadowProducer,
    DeadLetterPublisher deadLetters,
    WireFormatWriter wireFormat,
    RecordCompletion completion,
    RequestIdDeduplicator deduplicator,
    RouterTelemetry telemetry,
    IHostApplicationLifetime lifetime,
    ILogger<OutputWriter> logger)
{
    /// <summary>
    /// Serializes <paramref name="prediction"/> now and sends it: the caller may fill the same message again for its
    /// next row, so nothing here keeps it (the delivery handler keeps the two names it needs).
    /// </summary>
    public void ProducePrediction(RoutedRecord record, Prediction prediction, PredictionContext context, string topic, bool primary)
    {
        var experiment = prediction.Experiment;
        var arm = prediction.Arm;
        var headers = MeshHeaders.Create<Prediction>(record.Activity);
        if (record.Activity is null && record.InboundTraceParent is { } traceParent)
        {
            headers.Add(MeshHeaders.TraceParent, traceParent);
        }

        byte[] value;
        try
        {
            value = context.Serialize(prediction, wireFormat.Header(topic, Prediction.Descriptor));
        }
        catch (SchemaRegistryUnavailableException e)
        {
            // The topic's schema could not be registered while the registry did not answer, and an output is never
            // written unframed: its record cannot complete, so restart from the stored offsets (as for a full queue).
            FatalError.Stop(lifetime, logger, e.Message, e);
            return;
        }
        catch (OperationCanceledException)
        {
            // Stopping while waiting for the registry: the record is not completed and is read again after the restart.
            return;
        }

        var message = new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(prediction.EntityId),
            Value = value,
            Headers = headers,
        };
        Action<DeliveryReport<byte[], byte[]>> onDelivered = primary
            ? report =>
            {
                var ok = report.Error.Code == ErrorCode.NoError;
                if (ok)
                {
                    telemetry.Predictions.Add(1);
                    telemetry.RecordEndToEnd(experiment, arm, DateTime.UtcNow - record.EventTime);
                }
                else
                {
                    LogDeliveryFailed(logger, topic, record.Source.Topic, record.Source.Partition.Value, record.Source.Offset.Value, report.Error.Reason);
                }

                completion.OnOutputDelivered(record, ok);
            }
            : report =>
            {
                // A shadow prediction owes nothing to the record's offset; a lost one is counted, not fatal.
                if (report.Error.Code == ErrorCode.NoError)
                {
                    telemetry.ShadowPredictions.Add(1);
                }
                else
                {
                    LogDeliveryFailed(logger, topic, record.Source.Topic, record.Source.Partition.Value, record.Source.Offset.Value, report.Error.Reason);
                }
            };
        Produce((producer: primary ? producer : shadowProducer.Producer, topic, message, onDelivered), static s => s.producer.Produce(s.topic, s.message, s.onDelivered));
    }

    /// <summary>
    /// Dead-letters the record; once an arm was chosen, <paramref name="experiment"/> and <paramref name="arm"/> say
    /// which, so the metrics sink can compute each arm's dead-letter rate.
    /// </summary>
    public void DeadLetter(RoutedRecord record, string errorClass, string reason, string experiment = "", string arm = "")
    {
        if (experiment.Length > 0 && record.Feature is { } feature)
        {
            deduplicator.Release(experiment, feature.RequestId);
        }

        telemetry.DeadLetters.Add(1, new KeyValuePair<string, object?>("error_class", errorClass));
        Produce(
            (deadLetters, completion, record, errorClass, reason, experiment, arm),
            static s => s.deadLetters.Publish(
                s.record.Source, s.errorClass, s.reason, ok => s.completion.OnOutputDelivered(s.record, ok), s.record.Activity, experiment: s.experiment, arm: s.arm));
    }

    /// <summary>
    /// One output the record no longer owes (an experiment that predicted its request id already): counted as done,
    /// so the record's offset still completes in order.
    /// </summary>
    public void Skip(RoutedRecord record) => completion.OnOutputDelivered(record, delivered: true);

    /// <summary>Dead-letters (or, for ensemble members, fails) every request of the batch from <paramref name="from"/> on.</summary>
    public void DeadLetterRest(ArmRuntime arm, Batch<ArmRequest> batch, int from, string reason)
    {
        var message = $"experiment '{arm.Identity.Experiment}' arm '{arm.Identity.Arm}' model '{arm.Identity.Model}' version '{arm.Identity.Version}': {reason}";
        for (var i = from; i < batch.Count; i++)
        {
            var request = batch[i];
            if (request.Join is { } join)
            {
                if (join.Fail(request.Member, reason))
                {
                    FinishJoin(join, request.Record);
                }

                continue;
            }

            DeadLetter(request.Record, ErrorClass.Inference, message, arm.Identity.Experiment, arm.Identity.Arm);
        }
    }

    /// <summary>The last member of an ensemble answered: the combined Prediction, or a dead letter when every member failed.</summary>
    public void FinishJoin(EnsembleJoin join, RoutedRecord record)
    {
        if (join.Combine(record, DateTime.UtcNow) is { } prediction)
        {
            ProducePrediction(record, prediction, join.Experiment.Contexts.Ensemble, join.Experiment.PredictionsTopic, primary: true);
        }
        else
        {
            DeadLetter(record, ErrorClass.Inference, $"experiment '{join.Experiment.Name}': every member of the ensemble failed: {join.FailureReason}",
                join.Experiment.Name, EnsembleJoin.ArmName);
        }
    }

    private void Produce<TState>(TState state, Action<TState> produce)
    {
        try
        {
            ProduceRetry.WhenQueueHasRoom(state, produce, CancellationToken.None);
        }
        catch (TimeoutException e)
        {
            // The output was never queued, so its record can never complete: restart from the stored offsets
            // rather than leave a live router whose partition no longer moves.
            FatalError.Stop(lifetime, logger, e.Message, e);
        }
    }

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Producing to {Topic} failed for {SourceTopic}[{Partition}]@{Offset}: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string topic, string sourceTopic, int partition, long offset, string reason);
}
