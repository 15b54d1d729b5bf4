namespace Mesh.MetricsSink.Verdicts;

/// <summary>Joined and correct predictions of one arm at a look; a shadow answers nobody, so it is never compared.</summary>
/// <remarks>
/// For a verdict on a declared outcome (docs/outcomes.md), <see cref="Joined"/> counts the labels that carried it and
/// <see cref="OutcomeMean"/> and <see cref="OutcomeVariance"/> are its mean (a rate outcome's share above zero) and
/// sample variance over them.
/// </remarks>
internal readonly record struct ArmOutcomes(string Arm, long Joined, long Correct, bool Shadow = false)
{
    public double Accuracy => Joined == 0 ? 0 : (double)Correct / Joined;

    public double? OutcomeMean { get; init; }

    public double OutcomeVariance { get; init; }

    /// <summary>What the arms are compared on: the declared outcome's mean, else accuracy.</summary>
    public double Score => OutcomeMean ?? Accuracy;

    /// <summary>The variance of one observation of <see cref="Score"/>: the outcome's sample variance, else p (1 − p).</summary>
    public double ObservationVariance => OutcomeMean is null ? Accuracy * (1 - Accuracy) : OutcomeVariance;
}
