using Mesh.MetricsSink.Summary;

namespace Mesh.MetricsSink.Page;

/// <summary>
/// The page's time series: a ring of the last <c>capacity</c> samples of the joiner's totals. Totals, not
/// deltas, so a client that missed samples still computes correct rates over the gap. Thread-safe.
/// </summary>
internal sealed class ExperimentTimeline(int capacity)
{
    private readonly object _gate = new();
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
        foreach (var experiment in snapshot.Experiments)
        {
            foreach (var a in experiment.Arms)
            {
                arms.Add(new ArmSample(experiment.Experiment, a.Arm, a.Shadow, a.Predictions, a.Joined, a.Correct, a.Fallbacks, a.LatencyP50Ms, a.LatencyP99Ms));
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
}
