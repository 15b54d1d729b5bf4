using System.Collections.Concurrent;
using Mesh.Router.Batching;
using Mesh.Router.Experiments;
using Mesh.Router.Options;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>
/// One micro-batcher per arm runtime, created on the arm's first record. Arm runtimes outlive reloads and weight
/// changes while their model stays the same, so keying by the runtime keeps its batches in flight across them. When
/// the experiments in force change, the batchers of arms the change retired are drained and disposed: a router that
/// is reloaded many times keeps only the batchers of arms it still routes to.
/// </summary>
internal sealed class ArmBatchers(IOptions<RouterOptions> options, BatchProcessor processor, ExperimentRegistry registry, RouterTelemetry telemetry, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<ArmRuntime, MicroBatcher<ArmRequest>> _batchers = new();
    private readonly ConcurrentDictionary<MicroBatcher<ArmRequest>, Task> _retiring = new();
    private readonly Lock _pruneLock = new();
    private volatile ExperimentSet? _seen;

    /// <summary>The batchers of arms that were retired and still finish the records they held.</summary>
    public int Retiring => _retiring.Count;

    /// <summary>The batchers of live arms.</summary>
    public int Count => _batchers.Count;

    public MicroBatcher<ArmRequest> For(ArmRuntime arm)
    {
        // A reference compare per record; the scan runs once per change of the experiments in force.
        if (!ReferenceEquals(registry.Current, _seen))
        {
            Prune();
        }

        return _batchers.TryGetValue(arm, out var batcher) ? batcher : _batchers.GetOrAdd(arm, static (a, self) => self.Create(a), this);
    }

    /// <summary>
    /// The consume loop has no record on hand: every arm with an open batch and none being processed sends it now
    /// (see <see cref="MicroBatcher{T}.CloseIfIdle"/>). Called once per burst of records, not per record.
    /// </summary>
    public void CloseIdle()
    {
        // Enumerating the dictionary takes no lock (its Values property would take them all).
        foreach (var (_, batcher) in _batchers)
        {
            batcher.CloseIfIdle();
        }
    }

    /// <summary>Closes every open batch and waits for all batches (shadows and retired arms too) to finish.</summary>
    public Task DrainAsync() => Task.WhenAll(_batchers.Values.Select(b => b.DrainAsync()).Concat(_retiring.Values));

    /// <summary>Closes every open batch of the primary arms and waits for them: shadows owe nothing to a commit.</summary>
    public Task DrainPrimaryAsync() =>
        Task.WhenAll(_batchers.Where(b => !b.Key.IsShadow).Select(b => b.Value.DrainAsync()).Concat(_retiring.Values));

    public void Dispose()
    {
        foreach (var batcher in _batchers.Values)
        {
            batcher.Dispose();
        }
    }

    // Records reach a batcher from the consume thread only, so a batcher taken out here gets no new record: draining
    // it finishes (and completes the offsets of) every record it held before it is disposed.
    private void Prune()
    {
        lock (_pruneLock)
        {
            var current = registry.Current;
            if (ReferenceEquals(current, _seen))
            {
                return;
            }

            _seen = current;
            foreach (var (arm, batcher) in _batchers)
            {
                if (arm.Retired && _batchers.TryRemove(KeyValuePair.Create(arm, batcher)))
                {
                    // In _retiring (and awaited by DrainAsync) before the retirement can run, and out of it before it ends.
                    var retired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _retiring[batcher] = retired.Task;
                    _ = RetireAsync(arm, batcher, retired);
                }
            }
        }
    }

    private async Task RetireAsync(ArmRuntime arm, MicroBatcher<ArmRequest> batcher, TaskCompletionSource retired)
    {
        try
        {
            await batcher.DrainAsync().ConfigureAwait(false);
        }
        finally
        {
            batcher.Dispose();
            telemetry.Untrack(arm.Tags);
            _retiring.TryRemove(batcher, out _);
            retired.SetResult();
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
