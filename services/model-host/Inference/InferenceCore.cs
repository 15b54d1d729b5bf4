using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Diagnostics;
using Grpc.Core;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Inference;

/// <summary>
/// The one inference path behind gRPC and HTTP/JSON: finds the model, checks every input against it
/// (naming the tensor and what was expected), runs it and shapes the outputs.
/// </summary>
internal sealed partial class InferenceCore(
    ModelCatalog catalog,
    ModelHostTelemetry telemetry,
    IOptions<ModelHostOptions> options,
    ILogger<InferenceCore> logger)
{
    private const string UnresolvedModelTag = "(unresolved)";

    public ModelCatalog Catalog => catalog;

    public ModelSlot FindSlot(string name, string version)
    {
        if (catalog.TryFind(name, version, out var slot) && slot is not null)
        {
            return slot;
        }

        var versions = catalog.VersionsOf(name);
        var detail = versions.Count > 0 || catalog.ModelNames().Contains(name)
            ? $"model '{name}' has no version '{version}' (versions: {string.Join(", ", versions)})"
            : $"model '{name}' is not served here (models: {string.Join(", ", catalog.ModelNames())})";
        throw new InferenceException(StatusCode.NotFound, detail);
    }

    public ServedModel FindModel(string name, string version)
    {
        var slot = FindSlot(name, version);
        return slot.Model
            ?? throw new InferenceException(StatusCode.Unavailable, $"model '{slot.Name}' version '{slot.Version}' failed to load: {slot.LoadError}");
    }

    public async Task<InferenceResult> InferAsync(InferenceRequest request)
    {
        ServedModel model;
        try
        {
            // A version swapped out between the lookup and the lease is looked up again: the swap
            // published its successor first, so this settles at once.
            do
            {
                model = FindModel(request.ModelName, request.ModelVersion);
            }
            while (!model.TryAcquire());
        }
        catch (InferenceException e)
        {
            // Callers choose the names they ask for: keep them out of metric tags so a typo cannot grow the series.
            telemetry.RecordRequest(UnresolvedModelTag, "", e.Code.ToString(), 0);
            throw;
        }

        try
        {
            return await InferAsync(model, request).ConfigureAwait(false);
        }
        finally
        {
            model.Release();
        }
    }

    private async Task<InferenceResult> InferAsync(ServedModel model, InferenceRequest request)
    {
        // The span name is only built when someone listens.
        using var activity = ModelHostTelemetry.ActivitySource.HasListeners() ? ModelHostTelemetry.ActivitySource.StartActivity("ModelInfer " + model.Name) : null;
        activity?.SetTag("mesh.model.name", model.Name);
        activity?.SetTag("mesh.model.version", model.Version);
        activity?.SetTag("mesh.request.id", request.Id);
        try
        {
            var (inputs, rows) = Validate(model, request.Inputs);
            activity?.SetTag("mesh.rows", rows);
            var selected = SelectOutputs(model, request.RequestedOutputs);

            var results = await model.RunAsync(inputs, rows).ConfigureAwait(false);

            var outputs = new OutputTensor[selected.Count];
            for (var i = 0; i < outputs.Length; i++)
            {
                var spec = selected[i];
                var result = results[spec.RunOutputIndex];
                outputs[i] = spec.Kind == OutputKind.ClassLabel
                    ? new OutputTensor(spec.Name, spec.Datatype, [result.Shape[0]], model.EncodeLabels(result.Data, (int)result.Shape[0]))
                    : new OutputTensor(spec.Name, spec.Datatype, result.Shape, result.Data);
            }

            telemetry.RecordRequest(model.Name, model.Version, nameof(StatusCode.OK), rows);
            return new InferenceResult(model.Name, model.Version, request.Id, outputs, model.ClassNamesJson);
        }
        catch (InferenceException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            telemetry.RecordRequest(model.Name, model.Version, e.Code.ToString(), 0);
            throw;
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidDataException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            telemetry.RecordRequest(model.Name, model.Version, nameof(StatusCode.Internal), 0);
            LogRunFailed(e, model.Name, model.Version, request.Id);
            throw new InferenceException(StatusCode.Internal, $"model '{model.Name}' version '{model.Version}' failed to run: {e.Message}");
        }
    }

    /// <summary>Checks the request inputs against the model and returns them in the model's input order, with the batch size.</summary>
    private (InputTensor[] Inputs, long Rows) Validate(ServedModel model, List<InputTensor> requestInputs)
    {
        if (requestInputs.Count != model.Inputs.Count)
        {
            var described = string.Join(", ", model.Inputs.Select(i => $"'{i.Name}' {i.Datatype} {TensorDatatype.FormatExpected(i.Shape)}"));
            throw InferenceException.InvalidArgument($"model '{model.Name}' takes {model.Inputs.Count} input(s) ({described}); the request has {requestInputs.Count}");
        }

        var ordered = new InputTensor[model.Inputs.Count];
        var rows = 1L;
        foreach (var input in requestInputs)
        {
            var spec = model.FindInput(input.Name)
                ?? throw InferenceException.InvalidArgument(
                    $"input '{input.Name}' is not an input of model '{model.Name}' version '{model.Version}'; expected {string.Join(", ", model.Inputs.Select(i => $"'{i.Name}'"))}");
            var index = IndexOf(model, spec);
            if (ordered[index] is not null)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' appears more than once");
            }

            ordered[index] = input;
            if (!string.Equals(input.Datatype, spec.Datatype, StringComparison.Ordinal))
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has datatype '{input.Datatype}'; expected {spec.Datatype}");
            }

            var shapeMatches = input.Shape.Length == spec.Shape.Length;
            for (var d = 0; shapeMatches && d < spec.Shape.Length; d++)
            {
                shapeMatches = spec.Shape[d] < 0 ? input.Shape[d] >= 1 : input.Shape[d] == spec.Shape[d];
            }

            if (!shapeMatches)
            {
                throw InferenceException.InvalidArgument(
                    $"input '{input.Name}' has shape {TensorDatatype.Format(input.Shape)}; expected {TensorDatatype.FormatExpected(spec.Shape)} with N >= 1");
            }

            var maxRows = options.Value.MaxBatchRows;
            if (input.Shape.Length > 0 && input.Shape[0] > maxRows)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has {input.Shape[0]} rows; at most {maxRows} per call (ModelHost:MaxBatchRows)");
            }

            if (index == 0 && input.Shape.Length > 0)
            {
                rows = input.Shape[0];
            }

            ValidateData(input, spec);
            if (model.RejectNaN)
            {
                RejectNaN(model, input, spec);
            }
        }

        return (ordered, rows);
    }

    private static void ValidateData(InputTensor input, InputSpec spec)
    {
        var elements = 1L;
        foreach (var dimension in input.Shape)
        {
            elements *= dimension;
        }
        if (!input.HasData)
        {
            throw InferenceException.InvalidArgument($"input '{input.Name}' has no data; set raw_input_contents or contents.{TypedField(spec.ElementType)}");
        }

        if (spec.ElementType == TensorElementType.String)
        {
            input.Elements ??= SplitBytes(input);
            if (input.Elements.Length != elements)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has {input.Elements.Length} values in {input.Source}; expected {elements} ({TensorDatatype.Format(input.Shape)} BYTES)");
            }

            return;
        }

        if (input.ValueCount is { } count)
        {
            if (count != elements)
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}' has {count} values in {input.Source}; expected {elements} ({TensorDatatype.Format(input.Shape)} {spec.Datatype})");
            }

            return;
        }

        var expectedBytes = elements * TensorDatatype.ElementSize(spec.ElementType);
        if (input.Data.Length != expectedBytes)
        {
            throw InferenceException.InvalidArgument(
                $"input '{input.Name}' has {input.Data.Length} bytes in {input.Source}; expected {expectedBytes} ({TensorDatatype.Format(input.Shape)} {spec.Datatype}, little-endian)");
        }
    }

    private static void RejectNaN(ServedModel model, InputTensor input, InputSpec spec)
    {
        var index = spec.ElementType switch
        {
            TensorElementType.Float => IndexOfNaN(MemoryMarshal.Cast<byte, float>(input.Data.Span)),
            TensorElementType.Double => IndexOfNaN(MemoryMarshal.Cast<byte, double>(input.Data.Span)),
            TensorElementType.Float16 => IndexOfNaN(MemoryMarshal.Cast<byte, Half>(input.Data.Span)),
            _ => -1,
        };
        if (index >= 0)
        {
            var perRow = input.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            throw InferenceException.InvalidArgument(
                $"input '{input.Name}' has NaN at element {index} (row {index / perRow}); model '{model.Name}' does not take NaN (rejectNaN)");
        }
    }

    private static int IndexOfNaN<T>(ReadOnlySpan<T> values)
        where T : IFloatingPointIeee754<T>
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (T.IsNaN(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    // v2 raw BYTES: each element is a 4-byte little-endian length followed by that many bytes.
    private static ReadOnlyMemory<byte>[] SplitBytes(InputTensor input)
    {
        var elements = new List<ReadOnlyMemory<byte>>();
        var data = input.Data;
        var offset = 0;
        while (offset < data.Length)
        {
            if (data.Length - offset < sizeof(int))
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}': {input.Source} ends inside the 4-byte length of element {elements.Count}");
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(data.Span[offset..]);
            if (length < 0 || length > data.Length - offset - sizeof(int))
            {
                throw InferenceException.InvalidArgument($"input '{input.Name}': element {elements.Count} of {input.Source} claims {length} bytes, {data.Length - offset - sizeof(int)} remain");
            }

            elements.Add(data.Slice(offset + sizeof(int), length));
            offset += sizeof(int) + length;
        }

        return [.. elements];
    }

    private static IReadOnlyList<OutputSpec> SelectOutputs(ServedModel model, IReadOnlyList<string> requested)
    {
        if (requested.Count == 0)
        {
            return model.Outputs;
        }

        var selected = new OutputSpec[requested.Count];
        for (var i = 0; i < requested.Count; i++)
        {
            selected[i] = model.FindOutput(requested[i])
                ?? throw InferenceException.InvalidArgument(
                    $"output '{requested[i]}' is not an output of model '{model.Name}' version '{model.Version}'; outputs are {string.Join(", ", model.Outputs.Select(o => o.Name))}");
        }

        return selected;
    }

    private static int IndexOf(ServedModel model, InputSpec spec)
    {
        for (var i = 0; i < model.Inputs.Count; i++)
        {
            if (ReferenceEquals(model.Inputs[i], spec))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The typed contents field that carries a datatype (FP16 has none: it travels raw).</summary>
    public static string TypedField(TensorElementType type) => type switch
    {
        TensorElementType.Bool => "bool_contents",
        TensorElementType.Int8 or TensorElementType.Int16 or TensorElementType.Int32 => "int_contents",
        TensorElementType.Int64 => "int64_contents",
        TensorElementType.UInt8 or TensorElementType.UInt16 or TensorElementType.UInt32 => "uint_contents",
        TensorElementType.UInt64 => "uint64_contents",
        TensorElementType.Float => "fp32_contents",
        TensorElementType.Double => "fp64_contents",
        TensorElementType.String => "bytes_contents",
        _ => "(none: send FP16 in raw_input_contents)",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "ModelInfer on {Model} version {Version} failed (request {RequestId})")]
    private partial void LogRunFailed(Exception exception, string model, string version, string requestId);
}
