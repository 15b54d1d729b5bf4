using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Inference;
using Mesh.Kafka;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Inference;
using Mesh.Router.Options;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>Calls an arm's model host (Open Inference Protocol ModelInfer) for one batch, through the arm's circuit breaker.</summary>
internal sealed partial class ArmCaller(IOptions<RouterOptions> options, RouterTelemetry telemetry, ILogger<ArmCaller> logger)
{
    private readonly TimeSpan _hostBusyMaxWait = TimeSpan.FromMilliseconds(options.Value.Backpressure.HostBusyMaxWaitMs);
    private readonly TimeSpan _hostUnavailableMaxWait = TimeSpan.FromMilliseconds(options.Value.Backpressure.HostUnavailableMaxWaitMs);

    // A batch's retries against a host that cannot take it now: 5 ms doubling to 1 s, within the wait's bound.
    private const string RetryPushbackTrailer = "grpc-retry-pushback-ms";
    private static readonly TimeSpan s_firstRetryWait = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_longestRetryWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Calls <paramref name="target"/> for the batch, up to <paramref name="attempts"/> times; <paramref name="buffer"/>
    /// holds the input. With <paramref name="holdWhileUnavailable"/> (the arm has no fallback) a host that cannot be
    /// reached (no connection, or its circuit open) is waited for, as a full queue is, for up to
    /// <c>Router:Backpressure:HostUnavailableMaxWaitMs</c>: a restarting model host then costs a pause, not a dead
    /// letter per record, because nothing else could have answered. The call has its own span, linked to the span of
    /// every record in the batch.
    /// </summary>
    public async Task<ArmCallResult> CallAsync(ArmRuntime target, Batch<ArmRequest> batch, byte[] buffer, int byteCount, int attempts, bool holdWhileUnavailable)
    {
        using var activity = StartCallActivity(target, batch);
        var result = await CallWithRetriesAsync(target, batch, buffer, byteCount, attempts, holdWhileUnavailable).ConfigureAwait(false);
        if (result.Output is null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Failure);
        }

        return result;
    }

    /// <summary>
    /// One span per ModelInfer batch, a root of its own: a batch serves records of many traces, so rather than join
    /// one of them it links to each (OpenTelemetry's batch convention); the gRPC client span, when one is recorded,
    /// is its child. Becomes <see cref="Activity.Current"/> for the rest of the call.
    /// </summary>
    private static Activity? StartCallActivity(ArmRuntime target, Batch<ArmRequest> batch)
    {
        if (!RouterTelemetry.Source.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var context = batch[i].Record.TraceContext;
            if (context != default)
            {
                links.Add(new ActivityLink(context));
            }
        }

        var identity = target.Identity;
        Activity.Current = null;
        var activity = RouterTelemetry.Source.StartActivity(ActivityKind.Client, default(ActivityContext), links: links, name: "inference.GRPCInferenceService/ModelInfer");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", "inference.GRPCInferenceService");
            activity.SetTag("rpc.method", "ModelInfer");
            activity.SetTag("server.address", identity.Endpoint);
            activity.SetTag("mesh.experiment", identity.Experiment);
            activity.SetTag("mesh.arm", identity.Arm);
            activity.SetTag("mesh.model", identity.Model);
            activity.SetTag("mesh.model.version", identity.Version);
            activity.SetTag("mesh.batch.size", batch.Count);
        }

        return activity;
    }

    private async Task<ArmCallResult> CallWithRetriesAsync(ArmRuntime target, Batch<ArmRequest> batch, byte[] buffer, int byteCount, int attempts, bool holdWhileUnavailable)
    {
        var identity = target.Identity;
        var request = CreateRequest(target, batch, buffer, byteCount);
        var failure = "";
        var busy = new Backoff(s_firstRetryWait, s_longestRetryWait, _hostBusyMaxWait);
        var unavailable = new Backoff(s_firstRetryWait, s_longestRetryWait, _hostUnavailableMaxWait);
        var acquired = false;
        for (var attempt = 1; attempt <= attempts;)
        {
            if (!acquired && !(acquired = target.Breaker.TryAcquire()))
            {
                var open = $"the circuit for model '{identity.Model}' at {identity.Endpoint} is open after repeated failures";
                // Held only while the circuit is open because the host could not be reached: a host that answers
                // with errors (a model that failed to load) is rejected at once, as it would be with a fallback.
                if (!holdWhileUnavailable || !target.HostUnreachable || unavailable.Exceeded())
                {
                    telemetry.CircuitRejections.Add(batch.Count, target.Tags);
                    return new ArmCallResult(null, 0, failure.Length > 0 ? $"{open}; {failure}" : open);
                }

                await unavailable.WaitAsync().ConfigureAwait(false);
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            ModelInferResponse response;
            try
            {
                response = await target.Client.ModelInferAsync(request, deadline: DateTime.UtcNow + target.CallTimeout).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                // The host's queue is full: that is backpressure, not a failure. The batch keeps its slot while it
                // waits, so the arm's slots fill up and the consume thread pauses; no fallback, no dead letter, and
                // the circuit stays as it is.
                telemetry.HostBusy.Add(1, target.Tags);
                if (busy.Exceeded())
                {
                    target.Breaker.OnAbandoned();
                    return new ArmCallResult(null, 0,
                        $"ModelInfer on {identity.Endpoint} stayed RESOURCE_EXHAUSTED for longer than Router:Backpressure:HostBusyMaxWaitMs ({_hostBusyMaxWait.TotalMilliseconds} ms): {e.Status.Detail}");
                }

                LogHostBusy(logger, identity.Experiment, identity.Arm, busy.NextWait.TotalMilliseconds, e.Status.Detail);
                await busy.WaitAsync().ConfigureAwait(false);
                continue;
            }
            catch (RpcException e) when (holdWhileUnavailable && (IsUnreachable(e) || AsksToRetry(e)))
            {
                // Nobody else can answer for this arm: wait for the host to come back (a pod restarting, a rollout)
                // with the batch's slot held, so the consume thread pauses instead of dead-lettering the stream.
                // The failure still counts towards the circuit, which then spaces the probes out.
                target.Breaker.OnFailure();
                target.HostUnreachable = true;
                acquired = false;
                telemetry.HostUnavailableWaits.Add(1, target.Tags);
                failure = $"ModelInfer on {identity.Endpoint} stayed UNAVAILABLE for longer than Router:Backpressure:HostUnavailableMaxWaitMs ({_hostUnavailableMaxWait.TotalMilliseconds} ms): {e.Status.Detail}";
                if (unavailable.Exceeded())
                {
                    return new ArmCallResult(null, 0, failure);
                }

                LogHostUnavailable(logger, identity.Experiment, identity.Arm, unavailable.NextWait.TotalMilliseconds, e.Status.Detail);
                await unavailable.WaitAsync().ConfigureAwait(false);
                continue;
            }
            catch (RpcException e)
            {
                target.HostUnreachable = false;
                failure = $"ModelInfer on {identity.Endpoint} failed {attempt} time(s), last {e.StatusCode}: {e.Status.Detail}";
                LogInferenceFailed(logger, identity.Experiment, identity.Arm, attempt, e.StatusCode, e.Status.Detail);
                attempt++;
                continue;
            }
            catch
            {
                // Not the host's answer (a bug, a disposed channel): it says nothing about the host, but a half-open
                // circuit must not wait forever for this probe's outcome.
                target.Breaker.OnAbandoned();
                throw;
            }
            var inferenceMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            telemetry.InferenceDuration.Record(inferenceMs / 1000, target.Tags);
            target.Breaker.OnSuccess();
            target.HostUnreachable = false;
            if (await target.Contract.CheckAsync(target.Client, identity.Model, response.ModelVersion).ConfigureAwait(false) is { } refused)
            {
                return new ArmCallResult(null, inferenceMs, refused);
            }

            try
            {
                return new ArmCallResult(InferResponseReader.Read(response, batch.Count, target.Outputs), inferenceMs, "");
            }
            catch (InvalidDataException e)
            {
                return new ArmCallResult(null, inferenceMs, $"ModelInfer on {identity.Endpoint} answered with an unusable response: {e.Message}");
            }
        }

        target.Breaker.OnFailure();
        return new ArmCallResult(null, 0, failure);
    }

    /// <summary>
    /// The call never reached a host (connection refused or reset: the client raised UNAVAILABLE with the transport's
    /// exception). An UNAVAILABLE the host itself answered (a model that failed to load) is its verdict and fails fast.
    /// </summary>
    private static bool IsUnreachable(RpcException e) => e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is not null;

    /// <summary>
    /// The host answered UNAVAILABLE and said when to try again (the <c>grpc-retry-pushback-ms</c> trailer of gRPC's retry
    /// design, A6): a passing state such as a model host still loading its models at start, held like an unreachable one.
    /// </summary>
    private static bool AsksToRetry(RpcException e) => e.StatusCode == StatusCode.Unavailable && e.Trailers.Get(RetryPushbackTrailer) is not null;

    /// <summary>One FP32 <c>[N, F]</c> input in one contiguous pooled buffer, wrapped without a copy.</summary>
    private static ModelInferRequest CreateRequest(ArmRuntime arm, Batch<ArmRequest> batch, byte[] buffer, int byteCount)
    {
        var width = arm.Input.FeatureWidth;
        var floats = MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, byteCount));
        for (var row = 0; row < batch.Count; row++)
        {
            var values = batch[row].Record.Feature!.Values;
            var destination = floats.Slice(row * width, width);
            if (batch[row].Columns is { } columns)
            {
                // The record named its features in another order than the model's (or carries more of them).
                for (var column = 0; column < width; column++)
                {
                    destination[column] = values[columns[column]];
                }
            }
            else
            {
                for (var column = 0; column < width; column++)
                {
                    destination[column] = values[column];
                }
            }
        }

        var input = new ModelInferRequest.Types.InferInputTensor { Name = arm.Input.InputName, Datatype = ModelInputShape.Fp32 };
        input.Shape.Add(batch.Count);
        input.Shape.Add(width);
        var request = new ModelInferRequest { ModelName = arm.Identity.Model, ModelVersion = arm.Identity.Version };
        request.Inputs.Add(input);
        // Only the contract's outputs: a server with more (raw logits, embeddings) then computes and sends none of them.
        request.Outputs.Add(arm.Outputs.Requested);
        // The buffer goes back to the pool only after the call returned, when the request has been serialized.
        request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, byteCount)));
        return request;
    }

    [LoggerMessage(EventId = 109, Level = LogLevel.Debug, Message = "Experiment {Experiment} arm {Arm}: the model host is busy, retrying in {WaitMs} ms: {Detail}")]
    private static partial void LogHostBusy(ILogger logger, string experiment, string arm, double waitMs, string detail);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Experiment {Experiment} arm {Arm}: the model host is unreachable and the arm has no fallback; holding the batch and retrying in {WaitMs} ms: {Detail}")]
    private static partial void LogHostUnavailable(ILogger logger, string experiment, string arm, double waitMs, string detail);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Experiment {Experiment} arm {Arm}: ModelInfer attempt {Attempt} failed: {Status} {Detail}")]
    private static partial void LogInferenceFailed(ILogger logger, string experiment, string arm, int attempt, StatusCode status, string detail);
}
