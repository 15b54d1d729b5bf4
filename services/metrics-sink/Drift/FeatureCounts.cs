using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>One feature's counts in the current window, on its reference bins: fixed size whatever the traffic.</summary>
internal sealed class FeatureCounts(FeatureProfile profile)
{
    private readonly long[] _bins = new long[profile.BinCount];
    private long _missing;
    private double _sum;

    public FeatureProfile Profile => profile;

    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            _missing++;
            return;
        }

        _bins[profile.BinOf(value)]++;
        _sum += value;
    }

    public void AddMissing() => _missing++;

    /// <summary>The window's figures, then starts the next window from zero.</summary>
    public FeatureDrift Close(int minRecords, double threshold, double pLimit)
    {
        long values = 0;
        foreach (var count in _bins)
        {
            values += count;
        }

        var records = values + _missing;
        var missingShare = records == 0 ? double.NaN : (double)_missing / records;
        var drift = values < minRecords
            ? new FeatureDrift(profile.Name, values, double.NaN, double.NaN, double.NaN, double.NaN, missingShare, double.NaN, threshold, false)
            : Compare(values, missingShare, threshold, pLimit);
        Array.Clear(_bins);
        _missing = 0;
        _sum = 0;
        return drift;
    }

    private FeatureDrift Compare(long values, double missingShare, double threshold, double pLimit)
    {
        var psi = DriftStatistics.Psi(profile.Counts, _bins);
        var (d, p) = DriftStatistics.KolmogorovSmirnov(profile.Counts, _bins);
        var outOfRange = (double)(_bins[0] + _bins[^1]) / values;
        // Both: a shift big enough to matter (PSI) and unlikely to be chance (KS), so small windows do not cry wolf.
        var alert = psi >= threshold && p < pLimit;
        return new FeatureDrift(profile.Name, values, psi, d, p, outOfRange, missingShare, _sum / values, threshold, alert);
    }
}
