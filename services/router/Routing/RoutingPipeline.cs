using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Google.Protobuf;
using Grpc.Core;
using Inference;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Hosting;
using Mesh.Router.Inference;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>
/// Lets the pipeline wait on the consume thread without starving the consumer: the consume loop pauses its
/// partitions, keeps polling (heartbeats, rebalances) and resumes once <c>tryProceed</c> succeeds.
/// </summary>
internal interface IConsumePauser
{
    public void WaitPaused(Func<bool> tryProceed, CancellationToken cancellationToken);
}

/// <summary>
/// The router's record handling, separate from the consume loop: decode, validate, choose an arm per experiment
/// (ab, bandit) or every member (ensemble), copy to shadows, micro-batch per arm, call the model host (falling back
/// to the champion when an arm fails), produce Predictions, dead-letter what cannot be processed, and store a
/// record's offset only once all of its outputs are acknowledged.
/// </summary>
internal sealed partial class RoutingPipeline(
    IOptions<RouterOptions> routerOptions,
    IOptions<KafkaOptions> kafkaOptions,
    ExperimentRegistry registry,
    IProducer<byte[], byte[]> producer,
    DeadLetterPublisher deadLetters,
    OffsetTracker offsets,
    RouterTelemetry telemetry,
    IHostApplicationLifetime lifetime,
    ILogger<RoutingPipeline> logger) : IDisposable
{
    public const string ErrorDecode = "decode";
    public const string ErrorValidation = "validation";
    public const string ErrorInference = "inference";
    private const int MaxAttempts = 2;
    private static readonly TimeSpan s_pausedPoll = TimeSpan.FromMilliseconds(100);

    // Used on the consume thread only.
    private readonly Random _random = routerOptions.Value.Bandit.Seed != 0 ? new Random(routerOptions.Value.Bandit.Seed) : new Random();
    private readonly TimeSpan _pauseAfter = TimeSpan.FromMilliseconds(routerOptions.Value.Backpressure.PauseAfterMs);
    private int[] _chosenArms = new int[16];
    private double[] _chosenProbabilities = new double[16];
    private string[] _chosenPolicies = new string[16];
    private IConsumer<byte[], byte[]>? _consumer;

    public ExperimentSet Experiments => registry.Current;

    /// <summary>Set by the consume loop; without it the consume thread simply blocks while it waits.</summary>
    public IConsumePauser? Pauser { get; set; }

    /// <summary>
    /// Loads the experiment spec and waits for every arm's model (ModelReady, then ModelMetadata for the input
    /// width), bounded by Router:ModelWaitSeconds. Throws with a message that names the arm and the endpoint.
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        registry.BatcherFactory = CreateBatcher;
        await registry.ReloadFromFileAsync(routerOptions.Value.ExperimentFile, force: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The consumer whose offsets completed records are stored on.</summary>
    public void Attach(IConsumer<byte[], byte[]> consumer) => _consumer = consumer;

    /// <summary>Handles one consumed record on the consume thread; waits (pausing the partitions) while the chosen arm's batches are all in flight.</summary>
    public void Handle(ConsumeResult<byte[], byte[]> result, CancellationToken cancellationToken)
    {
        var consumedAt = DateTime.UtcNow;
        offsets.Track(result.TopicPartition, result.Offset.Value);
        telemetry.Records.Add(1);

        var record = StartRecord(result, consumedAt);
        if (result.Message.Value is null)
        {
            DeadLetter(record, ErrorDecode, "the record has no value (a tombstone), not a mesh.v1.FeatureRecord.");
            return;
        }

        FeatureRecord feature;
        try
        {
            feature = FeatureRecord.Parser.ParseFrom(result.Message.Value);
        }
        catch (InvalidProtocolBufferException e)
        {
            DeadLetter(record, ErrorDecode, $"the value is not a mesh.v1.FeatureRecord: {e.Message}");
            return;
        }

        record.Feature = feature;
        record.EventTime = feature.EventTime?.ToDateTime() ?? result.Message.Timestamp.UtcDateTime;
        if (string.IsNullOrEmpty(feature.RequestId))
        {
            DeadLetter(record, ErrorValidation, "request_id is empty.");
            return;
        }

        var experiments = registry.Current.ForTopic(result.Topic);
        if (experiments.Count == 0)
        {
            DeadLetter(record, ErrorValidation, $"no experiment reads topic '{result.Topic}' any more.");
            return;
        }

        EnsureChoiceCapacity(experiments.Count);

        // Sticky by entity; a record without one still gets a stable arm through its request id.
        var stickyKey = feature.EntityId.Length > 0 ? feature.EntityId : feature.RequestId;
        for (var i = 0; i < experiments.Count; i++)
        {
            var experiment = experiments[i];
            int index;
            double probability;
            string policy;
            switch (experiment.Strategy)
            {
                case ExperimentStrategy.Bandit:
                    index = experiment.Bandit!.Choose(_random, out probability, out policy);
                    break;
                case ExperimentStrategy.Ensemble:
                    index = -1;
                    probability = 1;
                    policy = experiment.PolicyVersion;
                    break;
                default:
                    index = experiment.Assigner!.Assign(stickyKey);
                    probability = experiment.Assigner.ProbabilityOf(index);
                    policy = experiment.Assigner.PolicyVersion;
                    break;
            }

            var arm = experiment.Arms[Math.Max(index, 0)];
            if (feature.Values.Count != arm.Input.FeatureWidth)
            {
                DeadLetter(record, ErrorValidation,
                    $"the record has {feature.Values.Count} feature values; experiment '{experiment.Name}' arm '{arm.Identity.Arm}' " +
                    $"(model '{arm.Identity.Model}' input '{arm.Input.InputName}') takes {arm.Input.FeatureWidth}.",
                    experiment.Name,
                    experiment.Strategy == ExperimentStrategy.Ensemble ? EnsembleJoin.ArmName : arm.Identity.Arm);
                return;
            }

            _chosenArms[i] = index;
            _chosenProbabilities[i] = probability;
            _chosenPolicies[i] = policy;
        }

        record.ExpectOutputs(experiments.Count);
        for (var i = 0; i < experiments.Count; i++)
        {
            var experiment = experiments[i];
            if (experiment.RateLimiter is { } limiter)
            {
                WaitForToken(experiment, limiter, cancellationToken);
            }

            if (experiment.Strategy == ExperimentStrategy.Ensemble)
            {
                var join = new EnsembleJoin(experiment, experiment.Arms.Count);
                for (var member = 0; member < experiment.Arms.Count; member++)
                {
                    Add(experiment.Arms[member], new ArmRequest(record, 1, _chosenPolicies[i], experiment.Contexts.Ensemble, join, member), cancellationToken);
                }
            }
            else
            {
                var chosen = _chosenArms[i];
                Add(experiment.Arms[chosen], new ArmRequest(record, _chosenProbabilities[i], _chosenPolicies[i], experiment.Contexts.Arms[chosen]), cancellationToken);
            }

            // Shadows never wait: a shadow whose batches are all busy does not get this record (shed first).
            for (var s = 0; s < experiment.Shadows.Count; s++)
            {
                var shadow = experiment.Shadows[s];
                if (feature.Values.Count != shadow.Input.FeatureWidth ||
                    !shadow.Batcher.TryAdd(new ArmRequest(record, 1, _chosenPolicies[i], experiment.Contexts.Shadows[s]), TimeSpan.Zero, cancellationToken))
                {
                    telemetry.ShadowShed.Add(1, shadow.Tags);
                }
            }
        }
    }

    /// <summary>
    /// Before partitions move to another router: finish what is in flight and flush, so their offsets are stored
    /// and committed now rather than the new owner redoing the work.
    /// </summary>
    public void OnPartitionsRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        DrainAsync().GetAwaiter().GetResult();
        producer.Flush(TimeSpan.FromSeconds(10));
        try
        {
            consumer.Commit();
        }
        catch (KafkaException e)
        {
            LogCommitSkipped(logger, e.Error.Reason);
        }

        offsets.Forget(partitions.Select(p => p.TopicPartition));
    }

    /// <summary>Revoked or lost partitions: their in-flight completions no longer store offsets.</summary>
    public void ForgetPartitions(IEnumerable<TopicPartition> partitions) => offsets.Forget(partitions);

    /// <summary>Closes every open batch and waits for all batches (shadows too) to finish.</summary>
    public Task DrainAsync() => Task.WhenAll(registry.AllArms.Select(a => a.Batcher.DrainAsync()));

    public void Dispose() => registry.Dispose();

    private void EnsureChoiceCapacity(int count)
    {
        if (_chosenArms.Length < count)
        {
            _chosenArms = new int[count];
            _chosenProbabilities = new double[count];
            _chosenPolicies = new string[count];
        }
    }

    private void Add(ArmRuntime arm, ArmRequest request, CancellationToken cancellationToken)
    {
        if (arm.Batcher.TryAdd(request, _pauseAfter, cancellationToken))
        {
            return;
        }

        // Every batch of the arm is still in flight: stop fetching rather than buffer without bound.
        telemetry.Pauses.Add(1, arm.Tags);
        WaitPaused(() => arm.Batcher.TryAdd(request, s_pausedPoll, cancellationToken), cancellationToken);
    }

    private void WaitForToken(ExperimentRuntime experiment, RateLimiting.TokenBucket limiter, CancellationToken cancellationToken)
    {
        if (limiter.TryTake(out var retryAfter))
        {
            return;
        }

        telemetry.RateLimited.Add(1, new KeyValuePair<string, object?>("experiment", experiment.Name));
        if (retryAfter <= _pauseAfter)
        {
            Thread.Sleep(retryAfter);
            if (limiter.TryTake(out retryAfter))
            {
                return;
            }
        }

        WaitPaused(
            () =>
            {
                if (limiter.TryTake(out var after))
                {
                    return true;
                }

                cancellationToken.WaitHandle.WaitOne(after < s_pausedPoll ? after : s_pausedPoll);
                cancellationToken.ThrowIfCancellationRequested();
                return false;
            },
            cancellationToken);
    }

    private void WaitPaused(Func<bool> tryProceed, CancellationToken cancellationToken)
    {
        if (Pauser is { } pauser)
        {
            pauser.WaitPaused(tryProceed, cancellationToken);
            return;
        }

        while (!tryProceed())
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private MicroBatcher<ArmRequest> CreateBatcher(ArmRuntime arm)
    {
        var batching = routerOptions.Value.Batching;
        return new(
            batching.MaxBatchSize,
            TimeSpan.FromMilliseconds(batching.MaxDelayMs),
            arm.IsShadow ? routerOptions.Value.Shadow.MaxInFlightBatches : batching.MaxInFlightBatches,
            batch => arm.IsShadow ? ProcessShadowBatchAsync(arm, batch) : ProcessBatchAsync(arm, batch),
            e => LogBatchFailed(logger, arm.Identity.Experiment, arm.Identity.Arm, e));
    }

    private RoutedRecord StartRecord(ConsumeResult<byte[], byte[]> result, DateTime consumedAt)
    {
        var parent = MeshHeaders.ExtractTraceContext(result.Message.Headers);
        var previous = Activity.Current;
        var activity = RouterTelemetry.Source.StartActivity(result.Topic + " process", ActivityKind.Consumer, parent);
        byte[]? inbound = null;
        if (activity is null)
        {
            result.Message.Headers?.TryGetLastBytes(MeshHeaders.TraceParent, out inbound);
        }
        else
        {
            if (activity.IsAllDataRequested)
            {
                activity.SetTag("messaging.system", "kafka");
                activity.SetTag("messaging.operation.type", "process");
                activity.SetTag("messaging.destination.name", result.Topic);
                activity.SetTag("messaging.destination.partition.id", result.Partition.Value);
                activity.SetTag("messaging.kafka.offset", result.Offset.Value);
            }

            // The activity lives until the record's outputs are acknowledged, on other threads; it must not
            // become the parent of whatever the consume thread does next.
            Activity.Current = previous;
        }

        return new RoutedRecord(result, consumedAt, activity, parent, inbound);
    }

    private async Task ProcessBatchAsync(ArmRuntime arm, Batch<ArmRequest> batch)
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
            var call = await CallAsync(arm, batch, buffer, byteCount, fallback is null ? MaxAttempts : 1).ConfigureAwait(false);
            var answeredBy = arm.Identity;
            if (call.Output is null && fallback is not null)
            {
                var second = await CallAsync(fallback, batch, buffer, byteCount, 1).ConfigureAwait(false);
                if (second.Output is not null)
                {
                    LogFallback(logger, arm.Identity.Experiment, arm.Identity.Arm, fallback.Identity.Arm, rows, call.Failure);
                    telemetry.Fallbacks.Add(rows, arm.Tags);
                    answeredBy = arm.Identity with { Model = fallback.Identity.Model, Version = fallback.Identity.Version, Endpoint = fallback.Identity.Endpoint };
                    call = second;
                }
                else
                {
                    call = call with { Failure = $"{call.Failure}; the fallback arm '{fallback.Identity.Arm}' failed too: {second.Failure}" };
                }
            }

            if (call.Output is not { } output)
            {
                DeadLetterRest(arm, batch, 0, call.Failure);
                produced = rows;
                return;
            }

            var topic = experiment?.PredictionsTopic ?? kafkaOptions.Value.Topics.Predictions;
            var isFallback = !ReferenceEquals(answeredBy, arm.Identity);
            for (; produced < rows; produced++)
            {
                var request = batch[produced];
                if (request.Join is { } join)
                {
                    if (join.Complete(request.Member, output, produced, call.InferenceMs))
                    {
                        FinishJoin(join, request.Record, topic);
                    }

                    continue;
                }

                var prediction = PredictionFactory.Create(request.Record, answeredBy, request.Probability, request.PolicyVersion, output, produced, call.InferenceMs, DateTime.UtcNow);
                prediction.Fallback = isFallback;
                ProducePrediction(request.Record, prediction, request.Context, topic, primary: true);
            }
        }
        catch (Exception e)
        {
            // A bug must not strand records: whatever was not produced goes to the dead-letter topic.
            LogBatchFailed(logger, arm.Identity.Experiment, arm.Identity.Arm, e);
            DeadLetterRest(arm, batch, produced, $"the router failed on this batch: {e.GetType().Name}: {e.Message}");
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
    private async Task ProcessShadowBatchAsync(ArmRuntime shadow, Batch<ArmRequest> batch)
    {
        var rows = batch.Count;
        var byteCount = rows * shadow.Input.FeatureWidth * sizeof(float);
        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            telemetry.BatchSize.Record(rows, shadow.Tags);
            var call = await CallAsync(shadow, batch, buffer, byteCount, 1).ConfigureAwait(false);
            if (call.Output is not { } output)
            {
                telemetry.ShadowFailures.Add(rows, shadow.Tags);
                LogShadowFailed(logger, shadow.Identity.Experiment, shadow.Identity.Arm, rows, call.Failure);
                return;
            }

            var topic = registry.Current.Find(shadow.Identity.Experiment)?.ShadowTopic ?? kafkaOptions.Value.Topics.ShadowPredictions;
            for (var row = 0; row < rows; row++)
            {
                var request = batch[row];
                var prediction = PredictionFactory.Create(request.Record, shadow.Identity, 1.0, request.PolicyVersion, output, row, call.InferenceMs, DateTime.UtcNow);
                prediction.Shadow = true;
                ProducePrediction(request.Record, prediction, request.Context, topic, primary: false);
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

    private readonly record struct CallResult(InferenceOutput? Output, double InferenceMs, string Failure);

    /// <summary>Calls <paramref name="target"/> for the batch through its circuit breaker.</summary>
    private async Task<CallResult> CallAsync(ArmRuntime target, Batch<ArmRequest> batch, byte[] buffer, int byteCount, int attempts)
    {
        var identity = target.Identity;
        if (!target.Breaker.TryAcquire())
        {
            telemetry.CircuitRejections.Add(batch.Count, target.Tags);
            return new CallResult(null, 0, $"the circuit for model '{identity.Model}' at {identity.Endpoint} is open after repeated failures");
        }

        var request = CreateRequest(target, batch, buffer, byteCount);
        var failure = "";
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var started = Stopwatch.GetTimestamp();
            ModelInferResponse response;
            try
            {
                response = await target.Client.ModelInferAsync(request, deadline: DateTime.UtcNow + target.CallTimeout).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                failure = $"ModelInfer on {identity.Endpoint} failed {attempt} time(s), last {e.StatusCode}: {e.Status.Detail}";
                LogInferenceFailed(logger, identity.Experiment, identity.Arm, attempt, e.StatusCode, e.Status.Detail);
                continue;
            }

            var inferenceMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            telemetry.InferenceDuration.Record(inferenceMs, target.Tags);
            target.Breaker.OnSuccess();
            try
            {
                return new CallResult(InferResponseReader.Read(response, batch.Count), inferenceMs, "");
            }
            catch (InvalidDataException e)
            {
                return new CallResult(null, inferenceMs, $"ModelInfer on {identity.Endpoint} answered with an unusable response: {e.Message}");
            }
        }

        target.Breaker.OnFailure();
        return new CallResult(null, 0, failure);
    }

    /// <summary>One FP32 <c>[N, F]</c> input in one contiguous pooled buffer, wrapped without a copy.</summary>
    private static ModelInferRequest CreateRequest(ArmRuntime arm, Batch<ArmRequest> batch, byte[] buffer, int byteCount)
    {
        var width = arm.Input.FeatureWidth;
        var floats = MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, byteCount));
        for (var row = 0; row < batch.Count; row++)
        {
            var values = batch[row].Record.Feature!.Values;
            var destination = floats.Slice(row * width, width);
            for (var column = 0; column < width; column++)
            {
                destination[column] = values[column];
            }
        }

        var input = new ModelInferRequest.Types.InferInputTensor { Name = arm.Input.InputName, Datatype = ModelInputShape.Fp32 };
        input.Shape.Add(batch.Count);
        input.Shape.Add(width);
        var request = new ModelInferRequest { ModelName = arm.Identity.Model, ModelVersion = arm.Identity.Version };
        request.Inputs.Add(input);
        // The buffer goes back to the pool only after the call returned, when the request has been serialized.
        request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, byteCount)));
        return request;
    }

    private void FinishJoin(EnsembleJoin join, RoutedRecord record, string topic)
    {
        if (join.Combine(record, DateTime.UtcNow) is { } prediction)
        {
            ProducePrediction(record, prediction, join.Experiment.Contexts.Ensemble, join.Experiment.PredictionsTopic, primary: true);
        }
        else
        {
            DeadLetter(record, ErrorInference, $"experiment '{join.Experiment.Name}': every member of the ensemble failed: {join.FailureReason}",
                join.Experiment.Name, EnsembleJoin.ArmName);
        }
    }

    private void ProducePrediction(RoutedRecord record, Prediction prediction, PredictionContext context, string topic, bool primary)
    {
        var headers = MeshHeaders.Create<Prediction>(record.Activity);
        if (record.Activity is null && record.InboundTraceParent is { } traceParent)
        {
            headers.Add(MeshHeaders.TraceParent, traceParent);
        }

        var message = new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(prediction.EntityId),
            Value = context.Serialize(prediction),
            Headers = headers,
        };
        Action<DeliveryReport<byte[], byte[]>> onDelivered = primary
            ? report =>
            {
                var ok = report.Error.Code == ErrorCode.NoError;
                if (ok)
                {
                    telemetry.Predictions.Add(1);
                }
                else
                {
                    LogDeliveryFailed(logger, topic, record.Source.Topic, record.Source.Partition.Value, record.Source.Offset.Value, report.Error.Reason);
                }

                OnOutputDelivered(record, ok);
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
        ProduceWhenQueueHasRoom((producer, topic, message, onDelivered), static s => s.producer.Produce(s.topic, s.message, s.onDelivered));
    }

    private void DeadLetterRest(ArmRuntime arm, Batch<ArmRequest> batch, int from, string reason)
    {
        var message = $"experiment '{arm.Identity.Experiment}' arm '{arm.Identity.Arm}' model '{arm.Identity.Model}' version '{arm.Identity.Version}': {reason}";
        for (var i = from; i < batch.Count; i++)
        {
            var request = batch[i];
            if (request.Join is { } join)
            {
                if (join.Fail(request.Member, reason))
                {
                    FinishJoin(join, request.Record, join.Experiment.PredictionsTopic);
                }

                continue;
            }

            DeadLetter(request.Record, ErrorInference, message, arm.Identity.Experiment, arm.Identity.Arm);
        }
    }

    /// <summary>
    /// Dead-letters the record; once an arm was chosen, <paramref name="experiment"/> and <paramref name="arm"/> say
    /// which, so the metrics sink can compute each arm's dead-letter rate.
    /// </summary>
    private void DeadLetter(RoutedRecord record, string errorClass, string reason, string experiment = "", string arm = "")
    {
        telemetry.DeadLetters.Add(1, new KeyValuePair<string, object?>("error_class", errorClass));
        var previous = Activity.Current;
        // The publisher writes Activity.Current's trace context into the dead letter's headers.
        Activity.Current = record.Activity;
        try
        {
            ProduceWhenQueueHasRoom((self: this, deadLetters, record, errorClass, reason, experiment, arm), static s =>
                s.deadLetters.Publish(s.record.Source, s.errorClass, s.reason, ok => s.self.OnOutputDelivered(s.record, ok), experiment: s.experiment, arm: s.arm));
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private void OnOutputDelivered(RoutedRecord record, bool delivered)
    {
        if (!delivered)
        {
            // librdkafka already retried until message.timeout.ms. Storing later offsets would skip this record,
            // so stop: the restarted router consumes it again from the last stored offset.
            FatalError.Stop(lifetime, logger,
                $"An output of {record.Source.Topic}[{record.Source.Partition.Value}]@{record.Source.Offset.Value} could not be delivered to Kafka.");
            return;
        }

        if (!record.OutputDone())
        {
            return;
        }

        record.Activity?.Stop();
        var source = record.Source;
        if (offsets.Complete(source.TopicPartition, source.Offset.Value) is long next)
        {
            StoreOffset(source.TopicPartition, next);
        }
    }

    private void StoreOffset(TopicPartition partition, long offset)
    {
        try
        {
            _consumer?.StoreOffset(new TopicPartitionOffset(partition, new Offset(offset)));
        }
        catch (KafkaException e)
        {
            // The partition was revoked or lost meanwhile; its new owner reprocesses from the committed offset.
            LogStoreOffsetSkipped(logger, partition.Topic, partition.Partition.Value, offset, e.Error.Reason);
        }
        catch (ObjectDisposedException)
        {
            LogStoreOffsetSkipped(logger, partition.Topic, partition.Partition.Value, offset, "the consumer is closed");
        }
    }

    private static void ProduceWhenQueueHasRoom<TState>(TState state, Action<TState> produce)
    {
        while (true)
        {
            try
            {
                produce(state);
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The producer's local queue drains as Kafka acknowledges; waiting here is backpressure.
                Thread.Sleep(5);
            }
        }
    }

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Experiment {Experiment} arm {Arm}: ModelInfer attempt {Attempt} failed: {Status} {Detail}")]
    private static partial void LogInferenceFailed(ILogger logger, string experiment, string arm, int attempt, StatusCode status, string detail);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Experiment {Experiment} arm {Arm}: a batch failed unexpectedly")]
    private static partial void LogBatchFailed(ILogger logger, string experiment, string arm, Exception exception);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Producing to {Topic} failed for {SourceTopic}[{Partition}]@{Offset}: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string topic, string sourceTopic, int partition, long offset, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Offset {Offset} of {Topic}[{Partition}] not stored: {Reason}")]
    private static partial void LogStoreOffsetSkipped(ILogger logger, string topic, int partition, long offset, string reason);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Commit on revoke skipped: {Reason}")]
    private static partial void LogCommitSkipped(ILogger logger, string reason);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Experiment {Experiment} arm {Arm}: {Rows} records answered by the fallback arm {Fallback}: {Reason}")]
    private static partial void LogFallback(ILogger logger, string experiment, string arm, string fallback, int rows, string reason);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Experiment {Experiment} shadow {Shadow}: {Rows} records not scored: {Reason}")]
    private static partial void LogShadowFailed(ILogger logger, string experiment, string shadow, int rows, string reason);
}
