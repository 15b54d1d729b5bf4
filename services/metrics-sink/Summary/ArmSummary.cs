namespace Mesh.MetricsSink.Summary;

internal sealed record ArmSummary(
    string Arm,
    string Model,
    string Version,
    bool Shadow,
    long Predictions,
    long Joined,
    long Correct,
    double Accuracy,
    double LatencyP50Ms,
    double LatencyP99Ms,
    long Fallbacks)
{
    // Added after the first contract: init-only, so the positional shape others construct stays as it was.
    public double LatencyP95Ms { get; init; }

    /// <summary>Mean −ln p(true class), over joined predictions that carried class scores; null when none did.</summary>
    public double? LogLoss { get; init; }

    /// <summary>Over joined predictions whose prediction and label are both numbers; null when none were.</summary>
    public double? Rmse { get; init; }

    public double? Mae { get; init; }

    public double? FallbackRate { get; init; }

    /// <summary>For shadows: the share of requests where the shadow answered as the primary did.</summary>
    public double? ShadowAgreement { get; init; }

    /// <summary>Records the router dead-lettered after choosing this arm.</summary>
    public long DeadLetters { get; init; }

    /// <summary>Dead letters / (predictions + dead letters); null for shadows and for an arm that saw neither.</summary>
    public double? DeadLetterRate { get; init; }

    /// <summary>The arm's run in the MLflow UI (<c>MetricsSink:Page:TrackingUiUrl</c>, else an http(s) tracking URI); null without one.</summary>
    public string? RunUrl { get; init; }

    /// <summary>The experiment's declared outcomes, in its order; null when it declares none.</summary>
    public IReadOnlyList<OutcomeSummary>? Outcomes { get; init; }

    /// <summary>The end-to-end latency histogram's bucket counts, in a snapshot taken for the page's windowed percentiles only (null otherwise); not in the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long[]? LatencyBuckets { get; init; }
}
