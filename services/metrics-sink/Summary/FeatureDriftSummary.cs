namespace Mesh.MetricsSink.Summary;

/// <summary>One feature of an <see cref="ArmDriftSummary"/>.</summary>
/// <param name="History">PSI per window, aligned with <see cref="ArmDriftSummary.Windows"/>.</param>
/// <param name="AlertHistory">Whether the feature alerted in each of those windows.</param>
internal sealed record FeatureDriftSummary(
    string Feature,
    long Values,
    double? Psi,
    double? KsStatistic,
    double? KsPValue,
    double? OutOfRangeShare,
    double? MissingShare,
    double? Mean,
    double Threshold,
    bool Alert,
    IReadOnlyList<double?> History,
    IReadOnlyList<bool> AlertHistory);
