using Grpc.Core;
using Inference;

namespace Mesh.Router.Inference;

/// <summary>
/// Keeps an arm's contract true when its server swaps the model under it. The feature and output contract is checked
/// against the model's metadata when the arm starts; a model host that loads a new version (a new folder, an MLflow
/// alias moved) then serves it under the same name, and a version whose inputs are named or ordered differently would
/// be scored by the old column order without a word. So the first answer from each served version (the
/// <c>model_version</c> of ModelInfer's response) has that version's metadata read and checked before the answer is
/// used: a version with the same signature is used from then on; one that differs is refused, each of its answers
/// failing with the reason (the arm's fallback answers, or the record is dead-lettered naming it), until the server
/// serves a version that matches again. One metadata call per version seen, none per batch.
/// </summary>
internal sealed class ArmContractWatch(Func<ModelMetadataResponse, string?> verify)
{
    private static readonly TimeSpan s_metadataTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private string? _verified;
    private string? _refused;
    private string _refusal = "";

    /// <summary>
    /// Null when an answer of <paramref name="servedVersion"/> can be used, else why not. A server that names no
    /// version (some do not fill <c>model_version</c>) is taken at its word at start.
    /// </summary>
    public ValueTask<string?> CheckAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, string servedVersion)
    {
        // Every batch answer passes here, nearly always naming the version already verified: that answer takes no
        // lock. Strings compare by value, so an equal version from another response object is recognised too.
        if (servedVersion.Length == 0 || string.Equals(servedVersion, Volatile.Read(ref _verified), StringComparison.Ordinal))
        {
            return ValueTask.FromResult<string?>(null);
        }

        lock (_gate)
        {
            if (servedVersion.Length == 0 || servedVersion == _verified)
            {
                return ValueTask.FromResult<string?>(null);
            }

            if (servedVersion == _refused)
            {
                return ValueTask.FromResult<string?>(_refusal);
            }
        }

        return new ValueTask<string?>(CheckNewVersionAsync(client, model, servedVersion));
    }

    /// <summary>
    /// Null when another version's metadata gives the arm the same contract it started with (input, feature order,
    /// outputs and class names), else what differs. A different but valid signature is refused too: the records in
    /// flight were laid out for the one checked at start.
    /// </summary>
    public static string? SignatureChange(ModelMetadataResponse next, IReadOnlyList<string>? features, string? label, string? scores, IReadOnlyList<string>? classes, ModelInputShape input, FeatureOrder? order, OutputContract outputs)
    {
        try
        {
            var nextInput = ModelInputShape.FromMetadata(next);
            var nextOrder = FeatureContract.Check(next, nextInput, features);
            var nextOutputs = OutputContract.Resolve(next, label, scores, classes);
            if (nextInput != input)
            {
                return $"its input is now '{nextInput.InputName}' with {nextInput.FeatureWidth} features, where the arm started with '{input.InputName}' with {input.FeatureWidth} (a router restart takes a new signature)";
            }

            if (order is null ? nextOrder is not null : !order.SameAs(nextOrder))
            {
                return $"its features are now [{string.Join(", ", nextOrder?.Names ?? [])}], where the arm started with [{string.Join(", ", order?.Names ?? [])}] (a router restart takes a new order)";
            }

            if (nextOutputs.Describe() != outputs.Describe() || !(nextOutputs.ClassNames ?? []).SequenceEqual(outputs.ClassNames ?? []))
            {
                return $"its outputs are now {nextOutputs.Describe()}, where the arm started with {outputs.Describe()}";
            }

            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
        {
            return e.Message;
        }
    }

    private async Task<string?> CheckNewVersionAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, string version)
    {
        string? problem;
        try
        {
            ModelMetadataResponse metadata;
            try
            {
                metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version }, deadline: DateTime.UtcNow + s_metadataTimeout).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.Unimplemented or StatusCode.InvalidArgument)
            {
                // A server that answers metadata only for the version it serves by default (the protocol makes the
                // version optional): that is the version that just answered.
                metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = model }, deadline: DateTime.UtcNow + s_metadataTimeout).ConfigureAwait(false);
            }

            problem = verify(metadata);
        }
        catch (RpcException e)
        {
            // Not a verdict on the model: the next answer of this version asks again.
            return $"model '{model}' now serves version {version}, whose metadata could not be read to check it against the arm's contract ({e.StatusCode}: {e.Status.Detail})";
        }

        lock (_gate)
        {
            if (problem is null)
            {
                Volatile.Write(ref _verified, version);
                return null;
            }

            _refused = version;
            _refusal = $"model '{model}' now serves version {version}, which does not match the arm's contract: {problem}";
            return _refusal;
        }
    }
}
