using System.Diagnostics.Metrics;
using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// The drift gauges on <c>/metrics</c>, on the sink's one Meter: each arm's last closed window per feature (PSI, KS
/// p-value, out-of-range and missing shares, whether it alerts) and its prediction PSI, labelled experiment, arm,
/// shadow and feature. A window too small to measure reports nothing for that feature.
/// </summary>
internal sealed class DriftTelemetry
{
    public DriftTelemetry(IMeterFactory meterFactory, DriftMonitor monitor)
    {
        var meter = meterFactory.Create(MetricsSinkTelemetry.Name);
        AlertsRaised = meter.CreateCounter<long>("mesh.metrics_sink.drift.alerts_raised", "{alert}", "Drift alerts raised (a feature of an arm starting to drift), by experiment, arm and feature.");
        FeatureGauge(meter, monitor, "psi", "Population stability index of the feature against the arm's reference, last closed window.", f => f.Psi);
        FeatureGauge(meter, monitor, "ks_p_value", "P-value of the binned two-sample KS test of the feature against the arm's reference, last closed window.", f => f.KsPValue);
        FeatureGauge(meter, monitor, "out_of_range_share", "Share of the feature's values outside the reference's range, last closed window.", f => f.OutOfRangeShare);
        FeatureGauge(meter, monitor, "missing_share", "Share of records without a finite value of the feature, last closed window.", f => f.MissingShare);
        FeatureGauge(meter, monitor, "alert", "1 while the feature's drift alert holds (PSI at its threshold and KS below the false-alarm rate), else 0.", f => double.IsFinite(f.Psi) ? (f.Alert ? 1 : 0) : double.NaN);
        meter.CreateObservableGauge("mesh.metrics_sink.drift.prediction_psi", () => Arms(monitor, r => r.PredictionPsi), "1",
            "Population stability index of the predicted classes' shares against the arm's reference, last closed window.");
        meter.CreateObservableGauge("mesh.metrics_sink.drift.prediction_alert", () => Arms(monitor, r => double.IsFinite(r.PredictionPsi) ? (r.PredictionAlert ? 1 : 0) : double.NaN), "1",
            "1 while the arm's predicted classes drift (PSI at its threshold and KS below the false-alarm rate), else 0.");
    }

    public Counter<long> AlertsRaised { get; }

    private static void FeatureGauge(Meter meter, DriftMonitor monitor, string name, string description, Func<FeatureDrift, double> value) =>
        meter.CreateObservableGauge("mesh.metrics_sink.drift." + name, () => Features(monitor, value), "1", description);

    private static IEnumerable<Measurement<double>> Features(DriftMonitor monitor, Func<FeatureDrift, double> value)
    {
        foreach (var report in monitor.Latest)
        {
            foreach (var feature in report.Features)
            {
                var figure = value(feature);
                if (double.IsFinite(figure))
                {
                    yield return new Measurement<double>(figure, new("experiment", report.Experiment), new("arm", report.Arm),
                        new("shadow", report.Shadow), new("feature", feature.Feature));
                }
            }
        }
    }

    private static IEnumerable<Measurement<double>> Arms(DriftMonitor monitor, Func<ArmDriftReport, double> value)
    {
        foreach (var report in monitor.Latest)
        {
            var figure = value(report);
            if (double.IsFinite(figure))
            {
                yield return new Measurement<double>(figure, new("experiment", report.Experiment), new("arm", report.Arm), new("shadow", report.Shadow));
            }
        }
    }
}
