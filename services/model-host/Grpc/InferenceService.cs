using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Inference;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Serving;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Grpc;

/// <summary>The Open Inference Protocol (KServe v2) gRPC service: decodes and encodes around <see cref="InferenceCore"/>.</summary>
internal sealed class InferenceService(InferenceCore core) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public const string ClassNamesParameter = "class_names";
    public const string FeatureNamesParameter = "feature_names";
    public const string ServerName = "mesh-model-host";

    public static string ServerVersion { get; } =
        typeof(InferenceService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = core.Catalog.IsReady });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = ServerName, Version = ServerVersion });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        // A model that failed to load is known but not ready; an unknown one is NOT_FOUND.
        var slot = Call(() => core.FindSlot(request.Name, request.Version));
        return Task.FromResult(new ModelReadyResponse { Ready = slot.Model is not null });
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var model = Call(() => core.FindModel(request.Name, request.Version));
        var response = new ModelMetadataResponse { Name = model.Name, Platform = ServedModel.Platform };
        response.Versions.AddRange(core.Catalog.VersionsOf(model.Name));
        foreach (var input in model.Inputs)
        {
            var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = input.Name, Datatype = input.Datatype };
            tensor.Shape.AddRange(input.Shape);
            if (model.FeatureNames is { } features && features.Input == input.Name)
            {
                // The router maps records by these names and checks them against its experiment's feature contract.
                tensor.Parameters[FeatureNamesParameter] = new InferParameter { StringParam = JsonSerializer.Serialize(features.Names) };
            }

            response.Inputs.Add(tensor);
        }

        foreach (var output in model.Outputs)
        {
            var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = output.Name, Datatype = output.Datatype };
            tensor.Shape.AddRange(output.Shape);
            response.Outputs.Add(tensor);
        }

        // Known before the first call, so a router can check its arm's output contract when the arm starts.
        if (model.ClassNamesJson is not null)
        {
            response.Parameters[ClassNamesParameter] = new InferParameter { StringParam = model.ClassNamesJson };
        }

        return Task.FromResult(response);
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        using var inference = Call(() => Decode(request));
        InferenceResult result;
        try
        {
            result = await core.InferAsync(inference);
        }
        catch (InferenceException e)
        {
            throw e.ToRpcException();
        }

        var response = new ModelInferResponse { ModelName = result.ModelName, ModelVersion = result.ModelVersion, Id = result.Id };
        if (result.ClassNamesJson is not null)
        {
            response.Parameters[ClassNamesParameter] = new InferParameter { StringParam = result.ClassNamesJson };
        }

        foreach (var output in result.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.Datatype };
            tensor.Shape.AddRange(output.Shape);
            response.Outputs.Add(tensor);

            // The arrays are fresh per call and never written again, so wrapping them is safe.
            response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(output.Data));
        }

        return response;
    }

    private static T Call<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (InferenceException e)
        {
            throw e.ToRpcException();
        }
    }

    private static InferenceRequest Decode(ModelInferRequest request)
    {
        if (request.RawInputContents.Count > 0 && request.RawInputContents.Count != request.Inputs.Count)
        {
            throw InferenceException.InvalidArgument(
                $"raw_input_contents has {request.RawInputContents.Count} entries; expected one per input ({request.Inputs.Count})");
        }

        var inputs = new List<InputTensor>(request.Inputs.Count);
        var requested = request.Outputs.Count == 0 ? [] : request.Outputs.Select(o => o.Name).ToArray();
        var inference = new InferenceRequest(request.ModelName, request.ModelVersion, request.Id, inputs, requested);
        try
        {
            for (var i = 0; i < request.Inputs.Count; i++)
            {
                var wire = request.Inputs[i];
                var input = new InputTensor(wire.Name, wire.Datatype, [.. wire.Shape]);
                inputs.Add(input);
                if (request.RawInputContents.Count > 0)
                {
                    if (wire.Contents is not null)
                    {
                        throw InferenceException.InvalidArgument($"input '{wire.Name}' has both contents and raw_input_contents; send one of them");
                    }

                    input.SetRaw(request.RawInputContents[i].Memory, $"raw_input_contents[{i}]");
                }
                else if (wire.Contents is not null && TensorDatatype.TryFromV2(wire.Datatype, out var type))
                {
                    DecodeTyped(input, type, wire.Contents);
                }
            }

            return inference;
        }
        catch
        {
            inference.Dispose();
            throw;
        }
    }

    // Typed contents are RepeatedFields (lists, not memory that can be pinned): copy once into a pooled
    // buffer in the v2 raw layout, narrowing int_contents/uint_contents to the declared width.
    private static void DecodeTyped(InputTensor input, TensorElementType type, InferTensorContents contents)
    {
        var source = "contents." + TensorDatatype.TypedField(type);
        var size = TensorDatatype.ElementSize(type);
        switch (type)
        {
            case TensorElementType.String:
                if (contents.BytesContents.Count > 0)
                {
                    input.SetTypedElements([.. contents.BytesContents.Select(b => b.Memory)], source);
                }

                break;
            case TensorElementType.Bool:
                Fill(contents.BoolContents, input, size, source, static (span, i, v) => Store(span, i, v ? (byte)1 : (byte)0));
                break;
            case TensorElementType.Int8:
                Fill(contents.IntContents, input, size, source, static (span, i, v) => v is >= sbyte.MinValue and <= sbyte.MaxValue && Store(span, i, (sbyte)v));
                break;
            case TensorElementType.Int16:
                Fill(contents.IntContents, input, size, source, static (span, i, v) => v is >= short.MinValue and <= short.MaxValue && Store(span, i, (short)v));
                break;
            case TensorElementType.Int32:
                Fill(contents.IntContents, input, size, source, static (span, i, v) => Store(span, i, v));
                break;
            case TensorElementType.Int64:
                Fill(contents.Int64Contents, input, size, source, static (span, i, v) => Store(span, i, v));
                break;
            case TensorElementType.UInt8:
                Fill(contents.UintContents, input, size, source, static (span, i, v) => v <= byte.MaxValue && Store(span, i, (byte)v));
                break;
            case TensorElementType.UInt16:
                Fill(contents.UintContents, input, size, source, static (span, i, v) => v <= ushort.MaxValue && Store(span, i, (ushort)v));
                break;
            case TensorElementType.UInt32:
                Fill(contents.UintContents, input, size, source, static (span, i, v) => Store(span, i, v));
                break;
            case TensorElementType.UInt64:
                Fill(contents.Uint64Contents, input, size, source, static (span, i, v) => Store(span, i, v));
                break;
            case TensorElementType.Float:
                Fill(contents.Fp32Contents, input, size, source, static (span, i, v) => Store(span, i, v));
                break;
            case TensorElementType.Double:
                Fill(contents.Fp64Contents, input, size, source, static (span, i, v) => Store(span, i, v));
                break;
            default:
                throw InferenceException.InvalidArgument($"input '{input.Name}' is {input.Datatype}, which has no typed contents; send it in raw_input_contents");
        }
    }

    // False when the value does not fit the declared datatype: int_contents and uint_contents carry INT8,
    // INT16, UINT8 and UINT16 in 32-bit fields, and a silent cast would wrap (INT8 300 would become 44).
    private delegate bool Writer<in T>(Span<byte> span, int index, T value);

    private static void Fill<T>(IList<T> values, InputTensor input, int size, string source, Writer<T> write)
    {
        if (values.Count == 0)
        {
            return;
        }

        var span = input.RentTyped(values.Count, size, source);
        for (var i = 0; i < values.Count; i++)
        {
            if (!write(span, i, values[i]))
            {
                throw InferenceException.InvalidArgument(
                    $"input '{input.Name}' is {input.Datatype}: {source}[{i}] ({values[i]}) is outside the range of {input.Datatype}");
            }
        }
    }

    private static bool Store<T>(Span<byte> span, int index, T value)
        where T : unmanaged
    {
        MemoryMarshal.Cast<byte, T>(span)[index] = value;
        return true;
    }
}
