using System.ComponentModel.DataAnnotations;

namespace Mesh.MetricsSink.Drift;

/// <summary>How the sink watches each arm's inputs and predictions for drift (configuration section <c>MetricsSink:Drift</c>).</summary>
internal sealed class DriftOptions
{
    public const string SectionName = "MetricsSink:Drift";

    public bool Enabled { get; set; } = true;

    /// <summary>For a model version without a reference profile: how many of its first records become its reference.</summary>
    [Range(50, 1_000_000, ErrorMessage = "MetricsSink:Drift:ReferenceRecords must be between 50 and 1,000,000.")]
    public int ReferenceRecords { get; set; } = 500;

    /// <summary>A window with fewer finite values of a feature than this reports counts but no statistics and never alerts.</summary>
    [Range(10, 100_000_000, ErrorMessage = "MetricsSink:Drift:MinRecords must be between 10 and 100,000,000.")]
    public int MinRecords { get; set; } = 100;

    /// <summary>The PSI at or above which a feature drifts (0.2 is the usual "significant shift").</summary>
    [Range(0.001, 100, ErrorMessage = "MetricsSink:Drift:Psi must be between 0.001 and 100.")]
    public double Psi { get; set; } = 0.2;

    /// <summary>The PSI of the predicted classes' shares at or above which the arm's predictions drift.</summary>
    [Range(0.001, 100, ErrorMessage = "MetricsSink:Drift:PredictionPsi must be between 0.001 and 100.")]
    public double PredictionPsi { get; set; } = 0.2;

    /// <summary>Per-feature PSI thresholds over <see cref="Psi"/>, e.g. <c>MetricsSink:Drift:Features:petal_length=0.1</c>.</summary>
    public Dictionary<string, double> Features { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The false-alarm rate per arm and window: an alert also needs the KS p-value below this divided by the number of
    /// tests (the features, and the predicted classes; Bonferroni), so on traffic like the reference an arm's window
    /// alerts at most this often.
    /// </summary>
    [Range(0.000001, 0.5, ErrorMessage = "MetricsSink:Drift:Alpha must be between 0.000001 and 0.5.")]
    public double Alpha { get; set; } = 0.01;

    /// <summary>A model repository as <c>mesh train</c> writes it (<c>&lt;name&gt;/&lt;version&gt;/reference_profile.json</c>), looked in before MLflow.</summary>
    public string? ModelRepository { get; set; }

    public double ThresholdOf(string feature) => Features.TryGetValue(feature, out var threshold) ? threshold : Psi;
}
