namespace Mesh.MetricsSink.Drift;

/// <summary>
/// One arm's drift over one window. <see cref="Reference"/> says what it is measured against: <c>training</c> (the
/// model's reference profile), <c>first-records</c> (its first records after the sink started, the model having no
/// profile) or <c>collecting</c> (still taking those first records: no figures yet).
/// </summary>
/// <param name="ReferenceRows">Rows of the reference (collecting: rows taken so far).</param>
/// <param name="Records">Predictions of the arm in the window.</param>
/// <param name="PredictionPsi">PSI of the predicted classes' shares against the reference's; NaN without classes or records.</param>
/// <param name="PredictionKsPValue">KS p-value of the predicted classes against the reference's, classes in the model's order.</param>
/// <param name="PredictionAlert">The predictions drift: PSI at its threshold and the p-value below the false-alarm rate.</param>
internal sealed record ArmDriftReport(
    string Experiment,
    string Arm,
    bool Shadow,
    string Model,
    string Version,
    string Reference,
    long ReferenceRows,
    long Records,
    double PredictionPsi,
    double PredictionKsPValue,
    bool PredictionAlert,
    IReadOnlyList<FeatureDrift> Features)
{
    public const string Collecting = "collecting";

    public IEnumerable<FeatureDrift> Alerts => Features.Where(f => f.Alert);
}
