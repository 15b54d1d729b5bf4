using Mesh.Contracts.V1;
using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// Drift per experiment arm and model version: hands each Prediction to its arm's <see cref="ArmDrift"/> and closes
/// them all when the sink's window closes. An arm's first Prediction of a model version starts the lookup of its
/// reference profile (the sources in order; none found: its first records become the reference); Predictions that
/// arrive while the lookup runs are counted as skipped. Memory: fixed bins per arm and feature.
/// </summary>
internal sealed partial class DriftMonitor(IReadOnlyList<IReferenceProfileSource> sources, DriftOptions options, ILogger<DriftMonitor> logger)
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), ArmDrift> _arms = [];
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), (string Model, string Version, Task<ReferenceProfile?> Lookup)> _lookups = [];
    private IReadOnlyList<ArmDriftReport> _latest = [];
    private long _skipped;

    /// <summary>The reports of the last closed window.</summary>
    public IReadOnlyList<ArmDriftReport> Latest => Volatile.Read(ref _latest);

    /// <summary>Predictions not measured because their arm's reference profile was still being looked up.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public void Observe(Prediction prediction)
    {
        if (prediction.Features.Count == 0)
        {
            // A Prediction of a router that does not copy the features: nothing to measure.
            return;
        }

        var key = (prediction.Experiment, prediction.Arm, prediction.Shadow);
        lock (_gate)
        {
            if (_arms.TryGetValue(key, out var arm) && arm.Model == prediction.ModelName && arm.Version == prediction.ModelVersion)
            {
                arm.Observe(prediction);
                return;
            }

            if (Ready(key, prediction) is { } started)
            {
                _arms[key] = started;
                started.Observe(prediction);
            }
            else
            {
                _skipped++;
            }
        }
    }

    /// <summary>Closes every arm's window: its report, and the next window starts from zero.</summary>
    public IReadOnlyList<ArmDriftReport> CloseWindow()
    {
        List<ArmDriftReport> reports;
        lock (_gate)
        {
            reports = [.. _arms.Values.Select(a => a.Close()).OrderBy(r => r.Experiment, StringComparer.Ordinal).ThenBy(r => r.Arm, StringComparer.Ordinal)];
        }

        Volatile.Write(ref _latest, reports);
        return reports;
    }

    // The arm's state for this model version once its profile lookup has finished; null while it runs.
    private ArmDrift? Ready((string Experiment, string Arm, bool Shadow) key, Prediction prediction)
    {
        if (!_lookups.TryGetValue(key, out var lookup) || lookup.Model != prediction.ModelName || lookup.Version != prediction.ModelVersion)
        {
            lookup = (prediction.ModelName, prediction.ModelVersion, FindAsync(prediction.ModelName, prediction.ModelVersion));
            _lookups[key] = lookup;
        }

        if (!lookup.Lookup.IsCompleted)
        {
            return null;
        }

        var profile = lookup.Lookup.Result;
        if (profile is null)
        {
            LogNoProfile(key.Experiment, key.Arm, prediction.ModelName, prediction.ModelVersion, options.ReferenceRecords);
        }
        else
        {
            LogProfile(key.Experiment, key.Arm, prediction.ModelName, prediction.ModelVersion, profile.Source, profile.Rows);
        }

        return new ArmDrift(key.Experiment, key.Arm, prediction.ModelName, prediction.ModelVersion, profile, options);
    }

    private async Task<ReferenceProfile?> FindAsync(string model, string version)
    {
        foreach (var source in sources)
        {
            try
            {
                if (await source.FindAsync(model, version, CancellationToken.None).ConfigureAwait(false) is { } profile)
                {
                    return profile;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLookupFailed(model, version, e.Message);
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Drift of {Experiment}/{Arm}: {Model} v{Version} has no reference profile; its first {Records} records become the reference")]
    private partial void LogNoProfile(string experiment, string arm, string model, string version, int records);

    [LoggerMessage(EventId = 61, Level = LogLevel.Information, Message = "Drift of {Experiment}/{Arm}: measured against {Model} v{Version}'s reference profile ({Source}, {Rows} rows)")]
    private partial void LogProfile(string experiment, string arm, string model, string version, string source, long rows);

    [LoggerMessage(EventId = 62, Level = LogLevel.Warning, Message = "Could not read the reference profile of {Model} v{Version}: {Reason}")]
    private partial void LogLookupFailed(string model, string version, string reason);
}
