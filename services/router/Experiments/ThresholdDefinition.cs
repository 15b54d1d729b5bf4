namespace Mesh.Router.Experiments;

/// <summary>
/// A decision threshold: the label is <see cref="Class"/> when its score is at least <see cref="Score"/>, else
/// <see cref="Otherwise"/> (by default the best-scoring other class, which for two classes is the other one).
/// </summary>
internal sealed class ThresholdDefinition
{
    public string? Class { get; set; }

    public double? Score { get; set; }

    public string? Otherwise { get; set; }
}
