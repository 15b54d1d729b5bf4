using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Inference;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Inference;
using Mesh.Router.Telemetry;

namespace Mesh.Router.Routing;

/// <summary>Calls an arm's model host (Open Inference Protocol ModelInfer) for one batch, through the arm's circuit breaker.</summary>
internal sealed partial class ArmCaller(RouterTelemetry telemetry, ILogger<ArmCaller> logger)
{
    /// <summary>Calls <paramref name="target"/> for the batch, up to <paramref name="attempts"/> times; <paramref name="buffer"/> holds the input.</summary>
    public async Task<ArmCallResult> CallAsync(ArmRuntime target, Batch<ArmRequest> batch, byte[] buffer, int byteCount, int attempts)
    {
        var identity = target.Identity;
        if (!target.Breaker.TryAcquire())
        {
            telemetry.CircuitRejections.Add(batch.Count, target.Tags);
            return new ArmCallResult(null, 0, $"the circuit for model '{identity.Model}' at {identity.Endpoint} is open after repeated failures");
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
                return new ArmCallResult(InferResponseReader.Read(response, batch.Count), inferenceMs, "");
            }
            catch (InvalidDataException e)
            {
                return new ArmCallResult(null, inferenceMs, $"ModelInfer on {identity.Endpoint} answered with an unusable response: {e.Message}");
            }
        }

        target.Breaker.OnFailure();
        return new ArmCallResult(null, 0, failure);
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

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Experiment {Experiment} arm {Arm}: ModelInfer attempt {Attempt} failed: {Status} {Detail}")]
    private static partial void LogInferenceFailed(ILogger logger, string experiment, string arm, int attempt, StatusCode status, string detail);
}
