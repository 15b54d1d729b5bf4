using Grpc.Core;
using Inference;

namespace Mesh.Router.Inference;

/// <summary>Asks an arm's server for its model's metadata once the model is ready.</summary>
internal static class ModelMetadataWaiter
{
    /// <summary>
    /// Waits until the model answers ModelReady, then reads its ModelMetadata. Keeps retrying
    /// (a model host may start after the router) until <paramref name="totalWait"/> has passed, then throws with
    /// the last reason.
    /// </summary>
    public static async Task<ModelMetadataResponse> WaitForAsync(
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
                    return metadata;
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
}
