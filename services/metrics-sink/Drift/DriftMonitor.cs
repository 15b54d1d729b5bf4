using Mesh.Contracts.V1;
using Mesh.MetricsSink.Summary;
using Mesh.Mlflow.Profiles;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// Drift per experiment arm and model version: hands each Prediction to its arm's <see cref="ArmDrift"/> and closes
/// them all when the sink's window closes. An arm's first Prediction of a model version starts the lookup of its
/// reference profile (the sources in order; none found: its first records become the reference); Predictions that
/// arrive while the lookup runs are counted as skipped. Memory: fixed bins per arm and feature.
/// </summary>
internal sealed partial class DriftMonitor(IReadOnlyList<IReferenceProfileSource> sources, DriftOptions options, ILogger<DriftMonitor> logger) : IDriftSummaries
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), ArmDrift> _arms = [];
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), (string Model, string Version, Task<ReferenceProfile?> Lookup)> _lookups = [];
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), Queue<(long Step, ArmDriftReport Report)>> _history = [];
    private IReadOnlyList<ArmDriftReport> _latest = [];
    private long _skipped;

    /// <summary>The reports of the last closed window.</summary>
    public IReadOnlyList<ArmDriftReport> Latest => Volatile.Read(ref _latest);

    /// <summary>Predictions not measured because their arm's reference profile was still being looked up.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public void Observe(Prediction prediction)
    {
        if (!options.Enabled || prediction.Features.Count == 0)
        {
            // Switched off, or a Prediction of a router that does not copy the features: nothing to measure.
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

    /// <summary>Windows each arm's heat strip shows (and the summary holds): a fixed number, so memory stays bounded.</summary>
    public const int HistoryWindows = 30;

    /// <summary>Closes every arm's window (<paramref name="step"/>: its index, the MLflow step): its report, and the next window starts from zero.</summary>
    public IReadOnlyList<ArmDriftReport> CloseWindow(long step)
    {
        List<ArmDriftReport> reports;
        lock (_gate)
        {
            reports = [.. _arms.Values.Select(a => a.Close()).OrderBy(r => r.Experiment, StringComparer.Ordinal).ThenBy(r => r.Arm, StringComparer.Ordinal)];
            foreach (var report in reports)
            {
                var key = (report.Experiment, report.Arm, report.Shadow);
                if (!_history.TryGetValue(key, out var history) || (history.Count > 0 && history.Peek().Report.Version != report.Version))
                {
                    // A new model version starts a new strip: its reference is another.
                    _history[key] = history = new Queue<(long, ArmDriftReport)>(HistoryWindows);
                }

                if (history.Count == HistoryWindows)
                {
                    history.Dequeue();
                }

                history.Enqueue((step, report));
            }
        }

        Volatile.Write(ref _latest, reports);
        return reports;
    }

    /// <summary>Each arm's drift for the summary and the page: the last window per feature, worst first, and the last windows' PSI.</summary>
    public IReadOnlyList<ArmDriftSummary> Summaries()
    {
        lock (_gate)
        {
            return [.. _history.Values.Where(h => h.Count > 0).Select(DriftSummaries.Of)
                .OrderBy(s => s.Experiment, StringComparer.Ordinal).ThenBy(s => s.Shadow).ThenBy(s => s.Arm, StringComparer.Ordinal)];
        }
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

        return new ArmDrift(key.Experiment, key.Arm, key.Shadow, prediction.ModelName, prediction.ModelVersion, profile, options);
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
