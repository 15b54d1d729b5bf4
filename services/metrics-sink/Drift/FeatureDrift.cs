namespace Mesh.MetricsSink.Drift;

/// <summary>One feature of one arm over one window, against the arm's reference profile (statistics NaN below the minimum count).</summary>
/// <param name="Values">Finite values seen in the window.</param>
/// <param name="KsStatistic">Two-sample KS statistic on the reference bins.</param>
/// <param name="KsPValue">Its asymptotic p-value.</param>
/// <param name="OutOfRangeShare">Share of the finite values outside the reference's minimum and maximum.</param>
/// <param name="MissingShare">Share of the records with no finite value for the feature (absent, NaN or infinite).</param>
/// <param name="Threshold">The PSI at which it alerts.</param>
internal sealed record FeatureDrift(
    string Feature,
    long Values,
    double Psi,
    double KsStatistic,
    double KsPValue,
    double OutOfRangeShare,
    double MissingShare,
    double Mean,
    double Threshold,
    bool Alert);
