using System.Collections.Concurrent;
using Mesh.Contracts.V1;

namespace Mesh.MetricsSink.Page;

/// <summary>
/// Per experiment, the primary Predictions seen and how many of them the router sent to the champion by lag-aware
/// shedding (<c>routing_reason</c> set), as running totals: the page shows the share per window from two samples.
/// Written on the consume thread, read by the page sampler.
/// </summary>
internal sealed class ShedTally
{
    private readonly ConcurrentDictionary<string, Counts> _experiments = new(StringComparer.Ordinal);

    public void Observe(Prediction prediction)
    {
        if (prediction.Shadow)
        {
            return;
        }

        var counts = _experiments.GetOrAdd(prediction.Experiment, static _ => new Counts());
        Interlocked.Increment(ref counts.Predictions);
        if (prediction.RoutingReason.Length > 0)
        {
            Interlocked.Increment(ref counts.Shed);
        }
    }

    public IReadOnlyList<ShedSample> Snapshot() =>
        [.. _experiments.Select(e => new ShedSample(e.Key, Interlocked.Read(ref e.Value.Predictions), Interlocked.Read(ref e.Value.Shed)))];

    private sealed class Counts
    {
        public long Predictions;
        public long Shed;
    }
}
