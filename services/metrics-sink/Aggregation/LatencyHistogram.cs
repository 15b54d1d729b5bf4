namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// Latency percentiles in fixed memory: logarithmic buckets 1% wide from 1 µs to about 6 hours, so any
/// percentile is within 0.5% of a true sample however many are recorded. Not thread-safe.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double MinMs = 0.001;
    private const double Growth = 1.01;
    private const int BucketCount = 2400;
    private static readonly double s_logGrowth = Math.Log(Growth);

    private readonly long[] _buckets = new long[BucketCount];
    private double _min = double.MaxValue;
    private double _max;

    public long Count { get; private set; }

    public void Record(double ms)
    {
        ms = Clamp(ms);
        _buckets[BucketOf(ms)]++;
        _min = Math.Min(_min, ms);
        _max = Math.Max(_max, ms);
        Count++;
    }

    /// <summary>The nearest-rank percentile (<paramref name="quantile"/> in [0, 1]); 0 when empty.</summary>
    public double Percentile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                // The first bucket holds everything up to 1 µs and the last everything beyond ~6 hours:
                // the extreme samples represent them.
                return i == 0 ? _min : i == BucketCount - 1 ? _max : Math.Clamp(Midpoint(i), _min, _max);
            }
        }

        return _max;
    }

    /// <summary>A copy of the bucket counts, to compare with a later copy (<see cref="PercentileBetween"/>).</summary>
    public long[] CopyBuckets() => (long[])_buckets.Clone();

    /// <summary>
    /// The nearest-rank percentile of the samples recorded between two copies of the buckets (<paramref name="then"/>
    /// may be empty: everything in <paramref name="now"/>); null when none were.
    /// </summary>
    public static double? PercentileBetween(ReadOnlySpan<long> now, ReadOnlySpan<long> then, double quantile)
    {
        long count = 0;
        for (var i = 0; i < now.Length; i++)
        {
            count += now[i] - (then.IsEmpty ? 0 : then[i]);
        }

        if (count <= 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * count));
        long seen = 0;
        for (var i = 0; i < now.Length; i++)
        {
            seen += now[i] - (then.IsEmpty ? 0 : then[i]);
            if (seen >= rank)
            {
                return i == 0 ? MinMs : Midpoint(i);
            }
        }

        return Midpoint(now.Length - 1);
    }

    /// <summary>Adds <paramref name="count"/> samples to a bucket: totals read back from the durable join state.</summary>
    public void Restore(int bucket, long count)
    {
        if (bucket < 0 || bucket >= BucketCount || count <= 0)
        {
            return;
        }

        _buckets[bucket] += count;
        // The samples themselves are gone: the bucket's bounds stand for them.
        var lower = bucket == 0 ? 0 : MinMs * Math.Pow(Growth, bucket - 1);
        _min = Math.Min(_min, lower);
        _max = Math.Max(_max, bucket == 0 ? MinMs : lower * Growth);
        Count += count;
    }

    /// <summary>The bucket a sample falls in (after the clamping <see cref="Record"/> applies).</summary>
    public static int BucketOf(double ms) =>
        ms <= MinMs ? 0 : Math.Min(BucketCount - 1, 1 + (int)(Math.Log(ms / MinMs) / s_logGrowth));

    // Clock skew between hosts can make a latency negative; it is still a sample, at zero.
    public static double Clamp(double ms) => !double.IsFinite(ms) || ms < 0 ? 0 : ms;

    private static double Midpoint(int bucket)
    {
        var lower = MinMs * Math.Pow(Growth, bucket - 1);
        return lower * (1 + Growth) / 2;
    }
}
