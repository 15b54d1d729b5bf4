using System.Collections.Concurrent;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Options;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>
/// One micro-batcher per arm runtime, created on the arm's first record. Arm runtimes outlive reloads and weight
/// changes while their model stays the same, so keying by the runtime keeps its batches in flight across them.
/// </summary>
internal sealed class ArmBatchers(IOptions<RouterOptions> options, BatchProcessor processor, RouterTelemetry telemetry, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<ArmRuntime, MicroBatcher<ArmRequest>> _batchers = new();

    public MicroBatcher<ArmRequest> For(ArmRuntime arm) =>
        _batchers.TryGetValue(arm, out var batcher) ? batcher : _batchers.GetOrAdd(arm, static (a, self) => self.Create(a), this);

    /// <summary>Closes every open batch and waits for all batches (shadows too) to finish.</summary>
    public Task DrainAsync() => Task.WhenAll(_batchers.Values.Select(b => b.DrainAsync()));

    /// <summary>Closes every open batch of the primary arms and waits for them: shadows owe nothing to a commit.</summary>
    public Task DrainPrimaryAsync() => Task.WhenAll(_batchers.Where(b => !b.Key.IsShadow).Select(b => b.Value.DrainAsync()));

    public void Dispose()
    {
        foreach (var batcher in _batchers.Values)
        {
            batcher.Dispose();
        }
    }

    private MicroBatcher<ArmRequest> Create(ArmRuntime arm)
    {
        var router = options.Value;
        var batcher = new MicroBatcher<ArmRequest>(
            router.Batching.MaxBatchSize,
            TimeSpan.FromMilliseconds(router.Batching.MaxDelayMs),
            arm.IsShadow ? router.Shadow.MaxInFlightBatches : router.Batching.MaxInFlightBatches,
            batch => processor.ProcessAsync(arm, batch),
            e => processor.OnUnhandled(arm, e),
            time);
        telemetry.TrackInFlight(arm.Tags, () => batcher.InFlight);
        return batcher;
    }
}
