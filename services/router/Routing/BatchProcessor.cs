using System.Buffers;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>
/// Processes one closed batch of an arm: calls the arm's model host (the champion answers when the arm fails),
/// then writes a Prediction per record, or combines ensemble members, or dead-letters what could not be scored.
/// A shadow's batch is best effort and owes nothing to the record's offset.
/// </summary>
internal sealed partial class BatchProcessor(
    ExperimentRegistry registry,
    ArmCaller caller,
    OutputWriter writer,
    RouterTelemetry telemetry,
    IOptions<KafkaOptions> kafkaOptions,
    ILogger<BatchProcessor> logger)
{
    private const int MaxAttempts = 2;

    public Task ProcessAsync(ArmRuntime arm, Batch<ArmRequest> batch) =>
        arm.IsShadow ? ProcessShadowAsync(arm, batch) : ProcessPrimaryAsync(arm, batch);

    /// <summary>Logs what escaped a batch (the batcher calls this; it must never throw).</summary>
    public void OnUnhandled(ArmRuntime arm, Exception exception) => LogBatchFailed(logger, arm.Identity.Experiment, arm.Identity.Arm, exception);

    private async Task ProcessPrimaryAsync(ArmRuntime arm, Batch<ArmRequest> batch)
    {
        var rows = batch.Count;
        var produced = 0;
        telemetry.BatchSize.Record(rows, arm.Tags);
        var experiment = registry.Current.Find(arm.Identity.Experiment);
        var fallback = experiment?.Fallback is { } champion && !ReferenceEquals(champion, arm) && experiment.Strategy != ExperimentStrategy.Ensemble
            ? champion
            : null;
        var byteCount = rows * arm.Input.FeatureWidth * sizeof(float);
        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            // With a fallback there is no second attempt: the champion answering now beats retrying a failing host.
            var call = await caller.CallAsync(arm, batch, buffer, byteCount, fallback is null ? MaxAttempts : 1, holdWhileUnavailable: fallback is null).ConfigureAwait(false);
            var answeredBy = arm.Identity;
            var postProcessor = arm.PostProcessor;
            if (call.Output is null && fallback is not null)
            {
                var second = await caller.CallAsync(fallback, batch, buffer, byteCount, 1, holdWhileUnavailable: false).ConfigureAwait(false);
                if (second.Output is not null)
                {
                    LogFallback(logger, arm.Identity.Experiment, arm.Identity.Arm, fallback.Identity.Arm, rows, call.Failure);
                    telemetry.Fallbacks.Add(rows, arm.Tags);
                    answeredBy = arm.Identity with { Model = fallback.Identity.Model, Version = fallback.Identity.Version, Endpoint = fallback.Identity.Endpoint };
                    postProcessor = fallback.PostProcessor;
                    call = second;
                }
                else
                {
                    call = call with { Failure = $"{call.Failure}; the fallback arm '{fallback.Identity.Arm}' failed too: {second.Failure}" };
                }
            }

            if (call.Output is not { } output)
            {
                writer.DeadLetterRest(arm, batch, 0, call.Failure);
                produced = rows;
                return;
            }

            var topic = experiment?.PredictionsTopic ?? kafkaOptions.Value.Topics.Predictions;
            var isFallback = !ReferenceEquals(answeredBy, arm.Identity);
            // Filled again for every row and serialized before the next (see PredictionFactory.Fill).
            var prediction = new Prediction();
            for (; produced < rows; produced++)
            {
                var request = batch[produced];
                if (request.Join is { } join)
                {
                    if (join.Complete(request.Member, output, produced, call.InferenceMs))
                    {
                        writer.FinishJoin(join, request.Record);
                    }

                    continue;
                }

                PredictionFactory.Fill(prediction, request.Record, answeredBy, request.Probability, request.PolicyVersion, output, produced, call.InferenceMs, DateTime.UtcNow, postProcessor);
                prediction.Fallback = isFallback;
                prediction.RoutingReason = request.RoutingReason;
                writer.ProducePrediction(request.Record, prediction, request.Context, topic, primary: true);
            }
        }
        catch (Exception e)
        {
            // A bug must not strand records: whatever was not produced goes to the dead-letter topic.
            LogBatchFailed(logger, arm.Identity.Experiment, arm.Identity.Arm, e);
            writer.DeadLetterRest(arm, batch, produced, $"the router failed on this batch: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A shadow's batch: best effort by design. Its answers go to the shadow topic and owe nothing to the record's
    /// offset; a failure is counted and logged, never dead-lettered, so a broken shadow cannot touch the primary path.
    /// </summary>
    private async Task ProcessShadowAsync(ArmRuntime shadow, Batch<ArmRequest> batch)
    {
        var rows = batch.Count;
        var byteCount = rows * shadow.Input.FeatureWidth * sizeof(float);
        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            telemetry.BatchSize.Record(rows, shadow.Tags);
            var call = await caller.CallAsync(shadow, batch, buffer, byteCount, 1, holdWhileUnavailable: false).ConfigureAwait(false);
            if (call.Output is not { } output)
            {
                telemetry.ShadowFailures.Add(rows, shadow.Tags);
                LogShadowFailed(logger, shadow.Identity.Experiment, shadow.Identity.Arm, rows, call.Failure);
                return;
            }

            var topic = registry.Current.Find(shadow.Identity.Experiment)?.ShadowTopic ?? kafkaOptions.Value.Topics.ShadowPredictions;
            var prediction = new Prediction();
            for (var row = 0; row < rows; row++)
            {
                var request = batch[row];
                PredictionFactory.Fill(prediction, request.Record, shadow.Identity, 1.0, request.PolicyVersion, output, row, call.InferenceMs, DateTime.UtcNow, shadow.PostProcessor);
                prediction.Shadow = true;
                writer.ProducePrediction(request.Record, prediction, request.Context, topic, primary: false);
            }
        }
        catch (Exception e)
        {
            telemetry.ShadowFailures.Add(rows, shadow.Tags);
            LogBatchFailed(logger, shadow.Identity.Experiment, shadow.Identity.Arm, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Experiment {Experiment} arm {Arm}: a batch failed unexpectedly")]
    private static partial void LogBatchFailed(ILogger logger, string experiment, string arm, Exception exception);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Experiment {Experiment} arm {Arm}: {Rows} records answered by the fallback arm {Fallback}: {Reason}")]
    private static partial void LogFallback(ILogger logger, string experiment, string arm, string fallback, int rows, string reason);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Experiment {Experiment} shadow {Shadow}: {Rows} records not scored: {Reason}")]
    private static partial void LogShadowFailed(ILogger logger, string experiment, string shadow, int rows, string reason);
}
