using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Summary;

namespace Mesh.MetricsSink.Page;

/// <summary>
/// The page's time series: a ring of the last <c>capacity</c> samples of the joiner's totals. Totals, not
/// deltas, so a client that missed samples still computes correct rates over the gap. Latency percentiles are the
/// exception (percentiles do not subtract): each sample carries those of the last <see cref="LatencyWindowSamples"/>
/// intervals, from the difference of the latency histogram's buckets then and now. Thread-safe.
/// </summary>
internal sealed class ExperimentTimeline(int capacity)
{
    /// <summary>How many sampling intervals a sample's latency percentiles cover.</summary>
    public const int LatencyWindowSamples = 10;

    private readonly object _gate = new();
    // Per arm, the bucket counts of up to LatencyWindowSamples + 1 samples, oldest first: fixed memory per arm.
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), Queue<long[]>> _latencyHistory = [];
    private readonly TimelineSample[] _ring = new TimelineSample[capacity];
    private int _next;
    private int _count;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public void Add(SummaryDocument snapshot, IReadOnlyList<ShedSample>? shedding = null)
    {
        var arms = new List<ArmSample>();
        lock (_gate)
        {
            foreach (var experiment in snapshot.Experiments)
            {
                foreach (var a in experiment.Arms)
                {
                    var (p50, p99) = WindowedLatency((experiment.Experiment, a.Arm, a.Shadow), a.LatencyBuckets);
                    arms.Add(new ArmSample(experiment.Experiment, a.Arm, a.Shadow, a.Predictions, a.Joined, a.Correct, a.Fallbacks, p50, p99));
                }
            }
        }

        var sample = new TimelineSample(new DateTimeOffset(DateTime.SpecifyKind(snapshot.Updated, DateTimeKind.Utc)).ToUnixTimeMilliseconds(), arms, shedding ?? []);
        lock (_gate)
        {
            _ring[_next] = sample;
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
        }
    }

    /// <summary>The samples taken after <paramref name="sinceUnixMs"/>, oldest first.</summary>
    public List<TimelineSample> Since(long sinceUnixMs)
    {
        lock (_gate)
        {
            var result = new List<TimelineSample>(_count);
            var first = (_next - _count + _ring.Length) % _ring.Length;
            for (var i = 0; i < _count; i++)
            {
                var sample = _ring[(first + i) % _ring.Length];
                if (sample.T > sinceUnixMs)
                {
                    result.Add(sample);
                }
            }

            return result;
        }
    }

    private (double? P50, double? P99) WindowedLatency((string, string, bool) arm, long[]? buckets)
    {
        if (buckets is null)
        {
            return (null, null);
        }

        if (!_latencyHistory.TryGetValue(arm, out var history))
        {
            history = new Queue<long[]>(LatencyWindowSamples + 1);
            _latencyHistory[arm] = history;
        }

        // The first sample of an arm covers everything it made so far; later ones, the last window's intervals.
        var then = history.Count == 0 ? [] : history.Peek();
        history.Enqueue(buckets);
        if (history.Count > LatencyWindowSamples)
        {
            history.Dequeue();
        }

        return (Round(LatencyHistogram.PercentileBetween(buckets, then, 0.50)), Round(LatencyHistogram.PercentileBetween(buckets, then, 0.99)));
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}
