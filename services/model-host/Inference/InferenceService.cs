using System.Buffers;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Grpc.Core;
using Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Inference;

/// <summary>The Open Inference Protocol (KServe v2) gRPC service over the model catalog.</summary>
internal sealed partial class InferenceService(
    ModelCatalog catalog,
    ModelHostTelemetry telemetry,
    IOptions<ModelHostOptions> options,
    ILogger<InferenceService> logger) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public const string ClassNamesParameter = "class_names";
    public const string ServerName = "mesh-model-host";
    private const string UnresolvedModelTag = "(unresolved)";

    private static readonly string s_serverVersion =
        typeof(InferenceService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = catalog.IsReady });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = ServerName, Version = s_serverVersion });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        // A model that failed to load is known but not ready; an unknown one is NOT_FOUND.
        var slot = FindSlot(request.Name, request.Version);
        return Task.FromResult(new ModelReadyResponse { Ready = slot.Model is not null });
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var model = FindModel(request.Name, request.Version);
        var response = new ModelMetadataResponse { Name = model.Name, Platform = ServedModel.Platform };
        response.Versions.AddRange(catalog.VersionsOf(model.Name));

        var input = new ModelMetadataResponse.Types.TensorMetadata { Name = model.Input.Name, Datatype = model.Input.Datatype };
        input.Shape.AddRange(model.Input.Shape);
        response.Inputs.Add(input);

        foreach (var output in model.Outputs)
        {
            var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = output.Name, Datatype = output.Datatype };
            tensor.Shape.AddRange(output.Shape);
            response.Outputs.Add(tensor);
        }

        return Task.FromResult(response);
    }

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        ServedModel model;
        try
        {
            model = FindModel(request.ModelName, request.ModelVersion);
        }
        catch (RpcException e)
        {
            // Callers choose the names they ask for: keep them out of metric tags so a typo cannot grow the series.
            telemetry.RecordRequest(UnresolvedModelTag, "", e.StatusCode.ToString());
            throw;
        }

        using var activity = ModelHostTelemetry.ActivitySource.StartActivity("ModelInfer " + model.Name);
        activity?.SetTag("mesh.model.name", model.Name);
        activity?.SetTag("mesh.model.version", model.Version);
        activity?.SetTag("mesh.request.id", request.Id);
        try
        {
            var rows = ValidateInput(model, request);
            activity?.SetTag("mesh.rows", rows);
            var selected = SelectOutputs(model, request.Outputs);

            var started = Stopwatch.GetTimestamp();
            var results = request.RawInputContents.Count > 0
                ? RunOverRawBytes(model, request.RawInputContents[0], rows)
                : RunOverTypedContents(model, request.Inputs[0].Contents.Fp32Contents, rows);
            telemetry.RecordInference(model.Name, model.Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);

            var response = new ModelInferResponse { ModelName = model.Name, ModelVersion = model.Version, Id = request.Id };
            if (model.ClassNamesJson is not null)
            {
                response.Parameters[ClassNamesParameter] = new InferParameter { StringParam = model.ClassNamesJson };
            }

            foreach (var output in selected)
            {
                var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.Datatype };
                tensor.Shape.Add(rows);
                for (var i = 1; i < output.Shape.Length; i++)
                {
                    tensor.Shape.Add(output.Shape[i]);
                }

                var bytes = output.Kind == OutputKind.ClassLabel
                    ? model.EncodeLabels(results[output.RunOutputIndex], rows)
                    : results[output.RunOutputIndex];

                // The arrays are fresh per call and never written again, so wrapping them is safe.
                response.Outputs.Add(tensor);
                response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(bytes));
            }

            telemetry.RecordRequest(model.Name, model.Version, nameof(StatusCode.OK));
            return Task.FromResult(response);
        }
        catch (RpcException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Status.Detail);
            telemetry.RecordRequest(model.Name, model.Version, e.StatusCode.ToString());
            throw;
        }
        catch (OnnxRuntimeException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            telemetry.RecordRequest(model.Name, model.Version, nameof(StatusCode.Internal));
            LogRunFailed(e, model.Name, model.Version, request.Id);
            throw new RpcException(new Status(StatusCode.Internal, $"model '{model.Name}' version '{model.Version}' failed to run: {e.Message}"));
        }
    }

    private ModelSlot FindSlot(string name, string version)
    {
        if (catalog.TryFind(name, version, out var slot) && slot is not null)
        {
            return slot;
        }

        var versions = catalog.VersionsOf(name);
        var detail = versions.Count > 0 || catalog.ModelNames().Contains(name)
            ? $"model '{name}' has no version '{version}' (versions: {string.Join(", ", versions)})"
            : $"model '{name}' is not served here (models: {string.Join(", ", catalog.ModelNames())})";
        throw new RpcException(new Status(StatusCode.NotFound, detail));
    }

    private ServedModel FindModel(string name, string version)
    {
        var slot = FindSlot(name, version);
        return slot.Model
            ?? throw new RpcException(new Status(StatusCode.Unavailable, $"model '{slot.Name}' version '{slot.Version}' failed to load: {slot.LoadError}"));
    }

    /// <summary>Checks the request against the model's single FP32 <c>[N, F]</c> input and returns N.</summary>
    private int ValidateInput(ServedModel model, ModelInferRequest request)
    {
        var expected = model.Input;
        if (request.Inputs.Count != 1)
        {
            throw InvalidArgument($"model '{model.Name}' takes 1 input ('{expected.Name}' FP32 [N, {expected.Features}]); the request has {request.Inputs.Count}");
        }

        var input = request.Inputs[0];
        if (!string.Equals(input.Name, expected.Name, StringComparison.Ordinal))
        {
            throw InvalidArgument($"input '{input.Name}' is not an input of model '{model.Name}' version '{model.Version}'; expected '{expected.Name}'");
        }

        if (!string.Equals(input.Datatype, expected.Datatype, StringComparison.Ordinal))
        {
            throw InvalidArgument($"input '{input.Name}' has datatype '{input.Datatype}'; expected {expected.Datatype}");
        }

        if (input.Shape.Count != 2 || input.Shape[0] < 1 || input.Shape[1] != expected.Features)
        {
            throw InvalidArgument($"input '{input.Name}' has shape [{string.Join(", ", input.Shape)}]; expected [N, {expected.Features}] with N >= 1");
        }

        var maxRows = options.Value.MaxBatchRows;
        if (input.Shape[0] > maxRows)
        {
            throw InvalidArgument($"input '{input.Name}' has {input.Shape[0]} rows; at most {maxRows} per call (ModelHost:MaxBatchRows)");
        }

        var rows = (int)input.Shape[0];
        var elements = (long)rows * expected.Features;
        if (request.RawInputContents.Count > 0)
        {
            if (request.RawInputContents.Count != request.Inputs.Count)
            {
                throw InvalidArgument($"raw_input_contents has {request.RawInputContents.Count} entries; expected one per input ({request.Inputs.Count})");
            }

            if (input.Contents is not null)
            {
                throw InvalidArgument($"input '{input.Name}' has both contents and raw_input_contents; send one of them");
            }

            var expectedBytes = elements * sizeof(float);
            if (request.RawInputContents[0].Length != expectedBytes)
            {
                throw InvalidArgument(
                    $"input '{input.Name}' has {request.RawInputContents[0].Length} bytes in raw_input_contents[0]; expected {expectedBytes} ({rows} x {expected.Features} FP32, little-endian)");
            }
        }
        else
        {
            var count = input.Contents?.Fp32Contents.Count ?? 0;
            if (count == 0)
            {
                throw InvalidArgument($"input '{input.Name}' has no data; set raw_input_contents or contents.fp32_contents");
            }

            if (count != elements)
            {
                throw InvalidArgument($"input '{input.Name}' has {count} values in contents.fp32_contents; expected {elements} ({rows} x {expected.Features})");
            }
        }

        return rows;
    }

    private static IReadOnlyList<OutputSpec> SelectOutputs(ServedModel model, RepeatedField<ModelInferRequest.Types.InferRequestedOutputTensor> requested)
    {
        if (requested.Count == 0)
        {
            return model.Outputs;
        }

        var selected = new OutputSpec[requested.Count];
        for (var i = 0; i < requested.Count; i++)
        {
            selected[i] = model.FindOutput(requested[i].Name)
                ?? throw InvalidArgument(
                    $"output '{requested[i].Name}' is not an output of model '{model.Name}' version '{model.Version}'; outputs are {string.Join(", ", model.Outputs.Select(o => o.Name))}");
        }

        return selected;
    }

    // The request bytes are the tensor: pin them and let ONNX Runtime read them in place. The v2 raw
    // encoding is little-endian, as are the platforms ONNX Runtime ships for.
    private static unsafe byte[][] RunOverRawBytes(ServedModel model, ByteString raw, int rows)
    {
        using var pin = MemoryMarshal.AsMemory(raw.Memory).Pin();
        using var input = OrtValue.CreateTensorValueWithData(
            OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [rows, model.Input.Features], (IntPtr)pin.Pointer, raw.Length);
        return model.Run(input, rows);
    }

    // Typed contents are a RepeatedField (a list, not contiguous memory we can pin), so copy once into a pooled buffer.
    private static byte[][] RunOverTypedContents(ServedModel model, RepeatedField<float> values, int rows)
    {
        var count = values.Count;
        var buffer = ArrayPool<float>.Shared.Rent(count);
        try
        {
            values.CopyTo(buffer, 0);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, count), [rows, model.Input.Features]);
            return model.Run(input, rows);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private static RpcException InvalidArgument(string detail) => new(new Status(StatusCode.InvalidArgument, detail));

    [LoggerMessage(Level = LogLevel.Error, Message = "ModelInfer on {Model} version {Version} failed (request {RequestId})")]
    private partial void LogRunFailed(Exception exception, string model, string version, string requestId);
}
