using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.MetricsSink.Aggregation;
using Mesh.ServiceDefaults.Telemetry;

namespace Mesh.MetricsSink.Telemetry;

/// <summary>The metrics sink's one Meter and ActivitySource.</summary>
internal sealed class MetricsSinkTelemetry
{
    public const string Name = "Mesh.MetricsSink";

    private static readonly ActivitySource s_activitySource = new(Name);

    private readonly ZeroedCounters _zeroed;

    private IReadOnlyList<ArmWindow> _latestWindows = [];

    public MetricsSinkTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _zeroed = new ZeroedCounters(meter);
        Predictions = _zeroed.Create("mesh.metrics_sink.predictions", "Distinct predictions applied.");
        Labels = _zeroed.Create("mesh.metrics_sink.labels", "Labels applied.");
        Joined = _zeroed.Create("mesh.metrics_sink.joins", "Records that completed a prediction-label join.");
        Duplicates = _zeroed.Create("mesh.metrics_sink.duplicates", "Redelivered records counted once.");
        UnmatchedLabels = _zeroed.Create("mesh.metrics_sink.unmatched_labels", "Labels expired without a prediction.");
        UnjoinedPredictions = _zeroed.Create("mesh.metrics_sink.unjoined_predictions", "Predictions expired without a label.");
        DeadLettered = _zeroed.Create("mesh.metrics_sink.dead_lettered", "Records sent to the dead-letter topic.");
        RouterDeadLetters = meter.CreateCounter<long>("mesh.metrics_sink.router_dead_letters",
            description: "The router's dead letters read from the dead-letter topic, by experiment and arm (empty when the record failed before one was chosen).");
        TrackingDropped = _zeroed.Create("mesh.metrics_sink.tracking.dropped", "Tracking records dropped because the buffer was full while MLflow was down.");
        // The figures of the last closed window per experiment arm: the same numbers MLflow gets, for Prometheus.
        Gauge(meter, "predictions", "{prediction}", c => c.Predictions);
        Gauge(meter, "joined", "{prediction}", c => c.Joined);
        Gauge(meter, "accuracy", "1", c => c.Accuracy);
        Gauge(meter, "log_loss", "1", c => c.LogLoss);
        Gauge(meter, "rmse", "1", c => c.Rmse);
        Gauge(meter, "mae", "1", c => c.Mae);
        // Seconds, like every duration on /metrics (MLflow keeps its latency_p*_ms in milliseconds).
        Gauge(meter, "latency_p50", "s", c => c.Latency.Count == 0 ? null : c.Latency.Percentile(0.50) / 1000);
        Gauge(meter, "latency_p95", "s", c => c.Latency.Count == 0 ? null : c.Latency.Percentile(0.95) / 1000);
        Gauge(meter, "latency_p99", "s", c => c.Latency.Count == 0 ? null : c.Latency.Percentile(0.99) / 1000);
        Gauge(meter, "fallback_rate", "1", c => c.FallbackRate);
        Gauge(meter, "shadow_agreement", "1", c => c.ShadowAgreement);
        WindowGauge(meter, "dead_letters", "{record}", w => w.Shadow ? null : w.Counters.DeadLetters);
        WindowGauge(meter, "dead_letter_rate", "1", w => w.DeadLetterRate);
        // No unit on the figure itself: an outcome is in its own units (revenue, clicks), and a unit of "1" would make
        // the Prometheus exporter call it a ratio.
        OutcomeGauge(meter, "outcome", null, "The last closed window's declared outcomes per experiment arm: the aggregate the spec names (mean, sum or rate).",
            (c, t) => t.Value);
        OutcomeGauge(meter, "outcome_count", "{label}", "The last closed window's joined labels carrying each declared outcome, per experiment arm.", (c, t) => t.Count);
        OutcomeGauge(meter, "outcome_missing", "{label}", "The last closed window's joined labels lacking each declared outcome, per experiment arm.", (c, t) => c.Missing(t));
    }

    public Counter<long> TrackingDropped { get; }

    /// <summary>Puts every untagged counter on /metrics at zero once the meter provider listens (<see cref="ZeroedCounters"/>).</summary>
    public void AddZeros() => _zeroed.AddZeros();

    /// <summary>The windows the gauges report, replaced each time a window closes.</summary>
    public IReadOnlyList<ArmWindow> LatestWindows
    {
        get => Volatile.Read(ref _latestWindows);
        set => Volatile.Write(ref _latestWindows, value);
    }

    private void Gauge(Meter meter, string name, string unit, Func<OutcomeCounters, double?> value) =>
        WindowGauge(meter, name, unit, w => value(w.Counters));

    private void WindowGauge(Meter meter, string name, string unit, Func<ArmWindow, double?> value) =>
        meter.CreateObservableGauge("mesh.metrics_sink.window." + name, () => Observe(value), unit, $"The last closed window's {name.Replace('_', ' ')} per experiment arm.");

    private void OutcomeGauge(Meter meter, string name, string? unit, string description, Func<OutcomeCounters, OutcomeTally, double?> value) =>
        meter.CreateObservableGauge("mesh.metrics_sink.window." + name, () => ObserveOutcomes(value), unit, description);

    private IEnumerable<Measurement<double>> ObserveOutcomes(Func<OutcomeCounters, OutcomeTally, double?> value)
    {
        foreach (var window in LatestWindows)
        {
            foreach (var tally in window.Counters.Outcomes)
            {
                if (value(window.Counters, tally) is { } figure)
                {
                    yield return new Measurement<double>(figure, new KeyValuePair<string, object?>("experiment", window.Experiment),
                        new KeyValuePair<string, object?>("arm", window.Arm), new KeyValuePair<string, object?>("shadow", window.Shadow),
                        new KeyValuePair<string, object?>("outcome", tally.Declaration.Name),
                        new KeyValuePair<string, object?>("aggregate", tally.Declaration.AggregateName));
                }
            }
        }
    }

    private IEnumerable<Measurement<double>> Observe(Func<ArmWindow, double?> value)
    {
        foreach (var window in LatestWindows)
        {
            if (value(window) is { } figure)
            {
                yield return new Measurement<double>(figure, new KeyValuePair<string, object?>("experiment", window.Experiment),
                    new KeyValuePair<string, object?>("arm", window.Arm), new KeyValuePair<string, object?>("shadow", window.Shadow));
            }
        }
    }

    public static ActivitySource ActivitySource => s_activitySource;

    public Counter<long> Predictions { get; }

    public Counter<long> Labels { get; }

    public Counter<long> Joined { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> UnmatchedLabels { get; }

    public Counter<long> UnjoinedPredictions { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> RouterDeadLetters { get; }
}
