using Mesh.Contracts.V1;
using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// One experiment arm's drift state for one model version: the window's counts on the reference bins, or, while the
/// model has no reference profile, the first records that will become one (at most <c>ReferenceRecords</c> rows).
/// Not thread-safe: <see cref="DriftMonitor"/> holds its lock around every call.
/// </summary>
internal sealed class ArmDrift
{
    private readonly DriftOptions _options;
    private readonly List<IReadOnlyList<double>>? _firstRows;
    private readonly List<string>? _firstLabels;
    private List<string> _firstNames = [];
    private ReferenceProfile? _profile;
    private FeatureCounts[] _features = [];
    private Dictionary<string, int> _featureIndex = new(StringComparer.Ordinal);
    private long[] _classes = [];
    private long _records;

    public ArmDrift(string experiment, string arm, bool shadow, string model, string version, ReferenceProfile? profile, DriftOptions options)
    {
        (Experiment, Arm, Shadow, Model, Version, _options) = (experiment, arm, shadow, model, version, options);
        if (profile is null)
        {
            _firstRows = new List<IReadOnlyList<double>>(options.ReferenceRecords);
            _firstLabels = new List<string>(options.ReferenceRecords);
        }
        else
        {
            Use(profile);
        }
    }

    public string Experiment { get; }

    public string Arm { get; }

    public bool Shadow { get; }

    public string Model { get; }

    public string Version { get; }

    public void Observe(Prediction prediction)
    {
        if (_profile is null)
        {
            Collect(prediction);
            return;
        }

        _records++;
        var seen = prediction.FeatureNames.Count > 0 ? new bool[_features.Length] : null;
        for (var i = 0; i < prediction.Features.Count; i++)
        {
            // Named values are matched by name (a record may order them differently), unnamed ones by position.
            var index = seen is null ? i : i < prediction.FeatureNames.Count ? _featureIndex.GetValueOrDefault(prediction.FeatureNames[i], -1) : -1;
            if (index >= 0 && index < _features.Length)
            {
                _features[index].Add(prediction.Features[i]);
                if (seen is not null)
                {
                    seen[index] = true;
                }
            }
        }

        for (var f = 0; f < _features.Length; f++)
        {
            if (seen is null ? f >= prediction.Features.Count : !seen[f])
            {
                _features[f].AddMissing();
            }
        }

        var classes = _profile.Predictions?.Classes;
        if (classes is not null && prediction.Output is { } output)
        {
            var c = IndexOf(classes, output.Label);
            _classes[c < 0 ? classes.Count : c]++;
        }
    }

    /// <summary>The window's report, then the next window starts from zero.</summary>
    public ArmDriftReport Close()
    {
        if (_profile is null)
        {
            return new ArmDriftReport(Experiment, Arm, Shadow, Model, Version, ArmDriftReport.Collecting, _firstRows!.Count, 0, double.NaN, double.NaN, false, []);
        }

        var pLimit = _options.Alpha / Math.Max(1, _features.Length + (_profile.Predictions is null ? 0 : 1));
        var features = _features.Select(f => f.Close(_options.MinRecords, _options.ThresholdOf(f.Profile.Name), pLimit)).ToList();
        var (predictionPsi, predictionP) = (double.NaN, double.NaN);
        if (_profile.Predictions is { } predictions && _records >= _options.MinRecords)
        {
            // The extra last bin holds classes the reference never predicted (its reference share is the empty-bin share).
            // KS over classes in a fixed order is still a test of "same distribution" with its false-alarm rate.
            long[] reference = [.. predictions.Counts, 0];
            predictionPsi = DriftStatistics.Psi(reference, _classes);
            predictionP = DriftStatistics.KolmogorovSmirnov(reference, _classes).PValue;
        }

        var predictionAlert = predictionPsi >= _options.PredictionPsi && predictionP < pLimit;
        var report = new ArmDriftReport(Experiment, Arm, Shadow, Model, Version, _profile.Source, _profile.Rows, _records, predictionPsi, predictionP,
            predictionAlert, features);
        Array.Clear(_classes);
        _records = 0;
        return report;
    }

    private void Collect(Prediction prediction)
    {
        if (_firstRows!.Count == 0)
        {
            // The first record names the features (or, unnamed, their positions do).
            _firstNames = prediction.FeatureNames.Count == prediction.Features.Count && prediction.Features.Count > 0
                ? [.. prediction.FeatureNames]
                : [.. Enumerable.Range(0, prediction.Features.Count).Select(i => $"feature_{i}")];
        }

        var row = new double[_firstNames.Count];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = i < prediction.Features.Count ? prediction.Features[i] : double.NaN;
        }

        _firstRows.Add(row);
        _firstLabels!.Add(prediction.Output?.Label ?? "");
        if (_firstRows.Count >= _options.ReferenceRecords)
        {
            var classes = prediction.Output?.ClassNames.Count > 0
                ? [.. prediction.Output.ClassNames]
                : _firstLabels.Where(l => l.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            Use(ReferenceProfileBuilder.Build(_firstNames, _firstRows, classes, _firstLabels, ReferenceProfile.FirstRecordsSource));
            // The rows are in the profile's bins now: let them go.
            _firstRows.Clear();
            _firstRows.TrimExcess();
            _firstLabels.Clear();
            _firstLabels.TrimExcess();
        }
    }

    private void Use(ReferenceProfile profile)
    {
        _profile = profile;
        _features = [.. profile.Features.Select(f => new FeatureCounts(f))];
        _featureIndex = profile.Features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        _classes = new long[(profile.Predictions?.Classes.Count ?? 0) + 1];
    }

    private static int IndexOf(IReadOnlyList<string> classes, string label)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], label, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
