using System.Diagnostics;
using Grpc.Core;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Models;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Serving;

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

    // How soon a caller turned away during the first load is told to try again: loading the demo's models takes
    // about a second, a large one longer, and a caller that waits with backoff of its own loses little by asking often.
    private static readonly TimeSpan s_loadingPushback = TimeSpan.FromMilliseconds(250);

    public ModelCatalog Catalog => catalog;

    public ModelSlot FindSlot(string name, string version)
    {
        if (catalog.TryFind(name, version, out var slot) && slot is not null)
        {
            return slot;
        }

        if (!catalog.LoadingComplete)
        {
            // The host listens before its models are loaded (so /health can say it is loading). A model missing now may
            // be one still loading: NOT_FOUND would tell a router its arm is misconfigured (its circuit opens and
            // records are dead-lettered); UNAVAILABLE tells it to hold the batch and try again.
            throw new InferenceException(StatusCode.Unavailable, $"model '{name}' version '{version}' is not loaded yet: the model host is still loading its repository", s_loadingPushback);
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
            var (inputs, rows) = InputValidator.Validate(model, request.Inputs, options.Value.MaxBatchRows);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "ModelInfer on {Model} version {Version} failed (request {RequestId})")]
    private partial void LogRunFailed(Exception exception, string model, string version, string requestId);
}
