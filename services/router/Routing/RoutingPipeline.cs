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
/// The router's record handling, separate from the consume loop: decode, validate, assign an arm per experiment,
/// micro-batch per arm, call the model host, produce Predictions, dead-letter what cannot be processed, and store
/// a record's offset only once all of its outputs are acknowledged.
/// </summary>
internal sealed partial class RoutingPipeline(
    IOptions<RouterOptions> routerOptions,
    IOptions<KafkaOptions> kafkaOptions,
    ModelEndpointPool endpoints,
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

    private IReadOnlyList<ExperimentRuntime> _experiments = [];
    private IConsumer<byte[], byte[]>? _consumer;

    public IReadOnlyList<ExperimentRuntime> Experiments => _experiments;

    /// <summary>
    /// Loads the experiment spec and waits for every arm's model (ModelReady, then ModelMetadata for the input
    /// width), bounded by Router:ModelWaitSeconds. Throws with a message that names the arm and the endpoint.
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var options = routerOptions.Value;
        var loaded = ExperimentSpecLoader.Load(options.ExperimentFile);
        if (loaded.Spec is null)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, loaded.Errors));
        }

        var wait = TimeSpan.FromSeconds(options.ModelWaitSeconds);
        var experiments = new List<ExperimentRuntime>();
        foreach (var experiment in loaded.Spec.Experiments)
        {
            var assigner = new ArmAssigner(experiment.Name, experiment.Arms.Select(a => a.Weight).ToArray());
            var arms = await Task.WhenAll(experiment.Arms.Select(async (arm, index) =>
            {
                var identity = new ArmIdentity(experiment.Name, arm.Name, arm.Model, arm.Version, arm.Endpoint, assigner.ProbabilityOf(index), assigner.PolicyVersion);
                var client = new GRPCInferenceService.GRPCInferenceServiceClient(endpoints.GetChannel(arm.Endpoint));
                ModelInputShape input;
                try
                {
                    input = await ModelInputShape.WaitForAsync(
                        client, arm.Model, arm.Version, wait, reason => LogWaitingForModel(logger, experiment.Name, arm.Name, arm.Model, arm.Endpoint, reason), cancellationToken);
                }
                catch (InvalidOperationException e)
                {
                    throw new InvalidOperationException(
                        $"Experiment '{experiment.Name}' arm '{arm.Name}': model '{arm.Model}' version '{arm.Version}' at {arm.Endpoint} {e.Message}", e);
                }

                LogModelReady(logger, experiment.Name, arm.Name, arm.Model, arm.Version, input.InputName, input.FeatureWidth);
                var runtime = new ArmRuntime(identity, client, input);
                runtime.Batcher = CreateBatcher(runtime, options.Batching);
                return runtime;
            }));
            experiments.Add(new ExperimentRuntime(experiment.Name, assigner, arms));
        }

        _experiments = experiments;
    }

    /// <summary>The consumer whose offsets completed records are stored on.</summary>
    public void Attach(IConsumer<byte[], byte[]> consumer) => _consumer = consumer;

    /// <summary>Handles one consumed record on the consume thread; blocks while the chosen arm's batches are all in flight.</summary>
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

        // Sticky by entity; a record without one still gets a stable arm through its request id.
        var stickyKey = feature.EntityId.Length > 0 ? feature.EntityId : feature.RequestId;
        var experiments = _experiments;
        Span<int> chosen = experiments.Count <= 16 ? stackalloc int[16] : new int[experiments.Count];
        for (var i = 0; i < experiments.Count; i++)
        {
            var experiment = experiments[i];
            var index = experiment.Assigner.Assign(stickyKey);
            var arm = experiment.Arms[index];
            if (feature.Values.Count != arm.Input.FeatureWidth)
            {
                DeadLetter(record, ErrorValidation,
                    $"the record has {feature.Values.Count} feature values; experiment '{experiment.Name}' arm '{arm.Identity.Arm}' " +
                    $"(model '{arm.Identity.Model}' input '{arm.Input.InputName}') takes {arm.Input.FeatureWidth}.");
                return;
            }

            chosen[i] = index;
        }

        record.ExpectOutputs(experiments.Count);
        for (var i = 0; i < experiments.Count; i++)
        {
            experiments[i].Arms[chosen[i]].Batcher.Add(record, cancellationToken);
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

    /// <summary>Closes every open batch and waits for all batches to finish.</summary>
    public Task DrainAsync() => Task.WhenAll(_experiments.SelectMany(e => e.Arms).Select(a => a.Batcher.DrainAsync()));

    public void Dispose()
    {
        foreach (var arm in _experiments.SelectMany(e => e.Arms))
        {
            arm.Batcher.Dispose();
        }
    }

    private MicroBatcher<RoutedRecord> CreateBatcher(ArmRuntime arm, BatchingOptions batching) => new(
        batching.MaxBatchSize,
        TimeSpan.FromMilliseconds(batching.MaxDelayMs),
        batching.MaxInFlightBatches,
        batch => ProcessBatchAsync(arm, batch),
        e => LogBatchFailed(logger, arm.Identity.Experiment, arm.Identity.Arm, e));

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

    private async Task ProcessBatchAsync(ArmRuntime arm, Batch<RoutedRecord> batch)
    {
        var rows = batch.Count;
        var produced = 0;
        telemetry.BatchSize.Record(rows, arm.Tags);
        var byteCount = rows * arm.Input.FeatureWidth * sizeof(float);
        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var request = CreateRequest(arm, batch, buffer, byteCount);
            ModelInferResponse? response = null;
            var failure = "";
            var inferenceMs = 0.0;
            for (var attempt = 1; attempt <= MaxAttempts && response is null; attempt++)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    response = await arm.Client.ModelInferAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(routerOptions.Value.Batching.CallTimeoutMs)).ConfigureAwait(false);
                    inferenceMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    telemetry.InferenceDuration.Record(inferenceMs, arm.Tags);
                }
                catch (RpcException e)
                {
                    failure = $"ModelInfer on {arm.Identity.Endpoint} failed {attempt} time(s), last {e.StatusCode}: {e.Status.Detail}";
                    LogInferenceFailed(logger, arm.Identity.Experiment, arm.Identity.Arm, attempt, e.StatusCode, e.Status.Detail);
                }
            }

            InferenceOutput? output = null;
            if (response is not null)
            {
                try
                {
                    output = InferResponseReader.Read(response, rows);
                }
                catch (InvalidDataException e)
                {
                    failure = $"ModelInfer on {arm.Identity.Endpoint} answered with an unusable response: {e.Message}";
                }
            }

            if (output is null)
            {
                DeadLetterRest(arm, batch, 0, failure);
                produced = rows;
                return;
            }

            for (; produced < rows; produced++)
            {
                var record = batch[produced];
                var prediction = PredictionFactory.Create(record, arm.Identity, output, produced, inferenceMs, DateTime.UtcNow);
                ProducePrediction(record, prediction);
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

    /// <summary>One FP32 <c>[N, F]</c> input in one contiguous pooled buffer, wrapped without a copy.</summary>
    private static ModelInferRequest CreateRequest(ArmRuntime arm, Batch<RoutedRecord> batch, byte[] buffer, int byteCount)
    {
        var width = arm.Input.FeatureWidth;
        var floats = MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, byteCount));
        for (var row = 0; row < batch.Count; row++)
        {
            var values = batch[row].Feature!.Values;
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

    private void ProducePrediction(RoutedRecord record, Prediction prediction)
    {
        var headers = MeshHeaders.Create<Prediction>(record.Activity);
        if (record.Activity is null && record.InboundTraceParent is { } traceParent)
        {
            headers.Add(MeshHeaders.TraceParent, traceParent);
        }

        var message = new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(prediction.EntityId),
            Value = prediction.ToByteArray(),
            Headers = headers,
        };
        var topic = kafkaOptions.Value.Topics.Predictions;
        Action<DeliveryReport<byte[], byte[]>> onDelivered = report =>
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
        };
        ProduceWhenQueueHasRoom((producer, topic, message, onDelivered), static s => s.producer.Produce(s.topic, s.message, s.onDelivered));
    }

    private void DeadLetterRest(ArmRuntime arm, Batch<RoutedRecord> batch, int from, string reason)
    {
        var message = $"experiment '{arm.Identity.Experiment}' arm '{arm.Identity.Arm}' model '{arm.Identity.Model}' version '{arm.Identity.Version}': {reason}";
        for (var i = from; i < batch.Count; i++)
        {
            DeadLetter(batch[i], ErrorInference, message);
        }
    }

    private void DeadLetter(RoutedRecord record, string errorClass, string reason)
    {
        telemetry.DeadLetters.Add(1, new KeyValuePair<string, object?>("error_class", errorClass));
        var previous = Activity.Current;
        // The publisher writes Activity.Current's trace context into the dead letter's headers.
        Activity.Current = record.Activity;
        try
        {
            ProduceWhenQueueHasRoom((self: this, deadLetters, record, errorClass, reason), static s =>
                s.deadLetters.Publish(s.record.Source, s.errorClass, s.reason, ok => s.self.OnOutputDelivered(s.record, ok)));
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

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Waiting for experiment {Experiment} arm {Arm}: model {Model} at {Endpoint}: {Reason}")]
    private static partial void LogWaitingForModel(ILogger logger, string experiment, string arm, string model, string endpoint, string reason);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Experiment {Experiment} arm {Arm}: model {Model} version {Version} ready, input {Input} with {Width} features")]
    private static partial void LogModelReady(ILogger logger, string experiment, string arm, string model, string version, string input, int width);

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
}
