using Grpc.Core;
using Inference;

namespace Mesh.Router.Inference;

/// <summary>What the router needs to know of a model's input: its name and its feature width.</summary>
internal sealed record ModelInputShape(string InputName, int FeatureWidth)
{
    public const string Fp32 = "FP32";

    /// <summary>
    /// Waits until the model answers ModelReady, then reads its first input from ModelMetadata. Keeps retrying
    /// (a model host may start after the router) until <paramref name="totalWait"/> has passed, then throws with
    /// the last reason.
    /// </summary>
    public static async Task<ModelInputShape> WaitForAsync(
        GRPCInferenceService.GRPCInferenceServiceClient client,
        string model,
        string version,
        TimeSpan totalWait,
        Action<string> onWaiting,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + totalWait;
        var lastReason = "no answer yet";
        while (true)
        {
            try
            {
                var callDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
                var ready = await client.ModelReadyAsync(new ModelReadyRequest { Name = model, Version = version }, deadline: callDeadline, cancellationToken: cancellationToken);
                if (ready.Ready)
                {
                    var metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version }, deadline: DateTime.UtcNow + TimeSpan.FromSeconds(5), cancellationToken: cancellationToken);
                    return FromMetadata(metadata);
                }

                lastReason = "ModelReady answered ready=false";
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
            {
                lastReason = $"{e.StatusCode}: {e.Status.Detail}";
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException(
                    $"was not ready within {totalWait.TotalSeconds:0} s (Router:ModelWaitSeconds); last answer: {lastReason}");
            }

            onWaiting(lastReason);
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    /// <summary>The first input, which must be FP32 with a fixed last dimension (the router packs rows of that width).</summary>
    public static ModelInputShape FromMetadata(ModelMetadataResponse metadata)
    {
        if (metadata.Inputs.Count == 0)
        {
            throw new InvalidOperationException("ModelMetadata lists no inputs.");
        }

        var input = metadata.Inputs[0];
        if (!string.Equals(input.Datatype, Fp32, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"input '{input.Name}' has datatype {input.Datatype}; the router sends {Fp32}.");
        }

        var width = input.Shape.Count == 0 ? -1 : input.Shape[^1];
        if (width is <= 0 or > int.MaxValue)
        {
            throw new InvalidOperationException(
                $"input '{input.Name}' has shape [{string.Join(", ", input.Shape)}]; the router needs a fixed last dimension (the feature count).");
        }

        return new ModelInputShape(input.Name, (int)width);
    }
}
