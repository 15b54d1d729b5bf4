using Mesh.Mlflow;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// What happens to drift when the sink's window closes: the monitor's reports become MLflow metrics on each arm's run
/// (<c>drift.psi.&lt;feature&gt;</c> ...), and a feature (or the predicted classes) that starts or stops alerting is a
/// structured log line and an event on the alerts topic (once per change, so a pager is not called every window while the drift lasts).
/// </summary>
internal sealed partial class DriftReporter(DriftMonitor monitor, DriftTelemetry telemetry, IDriftAlertSink alerts, TimeProvider time, IOptions<DriftOptions> options, ILogger<DriftReporter> logger)
{
    private readonly HashSet<(string Experiment, string Arm, bool Shadow, string Subject)> _alerting = [];

    /// <summary>Closes the drift window <paramref name="step"/>; the figures per arm, keyed by experiment, arm and shadow.</summary>
    public IReadOnlyDictionary<(string Experiment, string Arm, bool Shadow), IReadOnlyList<MlflowMetric>> CloseWindow(long step)
    {
        var timestamp = time.GetUtcNow();
        var figures = new Dictionary<(string, string, bool), IReadOnlyList<MlflowMetric>>();
        foreach (var report in monitor.CloseWindow(step))
        {
            figures[(report.Experiment, report.Arm, report.Shadow)] = Metrics(report, step, timestamp.ToUnixTimeMilliseconds());
            foreach (var feature in report.Features)
            {
                Track(report, DriftAlert.FeatureKind, feature.Feature, feature.Psi, feature.Threshold, feature.KsStatistic, feature.KsPValue, feature.Alert, step, timestamp);
            }

            Track(report, DriftAlert.PredictionKind, "", report.PredictionPsi, options.Value.PredictionPsi, double.NaN, report.PredictionKsPValue, report.PredictionAlert, step, timestamp);
        }

        return figures;
    }

    // A change of state (raised or resolved) is a log line and an event; a window too small to measure keeps the state.
    private void Track(ArmDriftReport report, string kind, string feature, double psi, double threshold, double ks, double p, bool alert, long step, DateTimeOffset timestamp)
    {
        var key = (report.Experiment, report.Arm, report.Shadow, kind + ":" + feature);
        if (!double.IsFinite(psi) || alert == _alerting.Contains(key))
        {
            return;
        }

        var subject = kind == DriftAlert.PredictionKind ? "predicted classes" : "feature " + feature;
        if (alert)
        {
            _alerting.Add(key);
            telemetry.AlertsRaised.Add(1, new("experiment", report.Experiment), new("arm", report.Arm), new("feature", feature));
            LogRaised(report.Experiment, report.Arm, report.Model, report.Version, subject, psi, threshold, p, report.Reference, step);
        }
        else
        {
            _alerting.Remove(key);
            LogResolved(report.Experiment, report.Arm, report.Model, report.Version, subject, psi, threshold, step);
        }

        alerts.Publish(new DriftAlert(DriftAlert.EventType, alert ? DriftAlert.Raised : DriftAlert.Resolved, kind, report.Experiment, report.Arm, report.Shadow,
            report.Model, report.Version, feature, psi, threshold, Finite(ks), Finite(p), report.Reference, step, timestamp));
    }

    private static List<MlflowMetric> Metrics(ArmDriftReport report, long step, long timestamp)
    {
        var metrics = new List<MlflowMetric>();
        void Add(string key, double value)
        {
            if (double.IsFinite(value))
            {
                metrics.Add(new MlflowMetric(key, value, timestamp, step));
            }
        }

        Add("drift.prediction_psi", report.PredictionPsi);
        if (double.IsFinite(report.PredictionPsi))
        {
            Add("drift.prediction_alert", report.PredictionAlert ? 1 : 0);
        }

        foreach (var f in report.Features)
        {
            Add("drift.psi." + f.Feature, f.Psi);
            Add("drift.ks_statistic." + f.Feature, f.KsStatistic);
            Add("drift.ks_p_value." + f.Feature, f.KsPValue);
            Add("drift.out_of_range." + f.Feature, f.OutOfRangeShare);
            Add("drift.missing." + f.Feature, f.MissingShare);
            if (double.IsFinite(f.Psi))
            {
                Add("drift.alert." + f.Feature, f.Alert ? 1 : 0);
            }
        }

        return metrics;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    [LoggerMessage(EventId = 63, Level = LogLevel.Warning,
        Message = "Drift alert raised: {Experiment}/{Arm} ({Model} v{Version}) {Subject} PSI {Psi:F3} >= {Threshold} with KS p {PValue:G3}, against its {Reference} reference, window {Window}")]
    private partial void LogRaised(string experiment, string arm, string model, string version, string subject, double psi, double threshold, double pValue, string reference, long window);

    [LoggerMessage(EventId = 64, Level = LogLevel.Information,
        Message = "Drift alert resolved: {Experiment}/{Arm} ({Model} v{Version}) {Subject} PSI {Psi:F3} (threshold {Threshold}), window {Window}")]
    private partial void LogResolved(string experiment, string arm, string model, string version, string subject, double psi, double threshold, long window);
}
