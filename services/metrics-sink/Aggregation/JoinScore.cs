namespace Mesh.MetricsSink.Aggregation;

/// <summary>How one joined prediction scored against its label.</summary>
/// <param name="Correct">The predicted class (or value's text) equals the label.</param>
/// <param name="LogLoss">−ln p(true class), when the prediction carried class scores.</param>
/// <param name="Error">Predicted minus observed, when both are numbers.</param>
internal readonly record struct JoinScore(bool Correct, double? LogLoss, double? Error)
{
    /// <summary>The label's value of each outcome the arm's experiment declares, in its order; NaN where the label lacks it.</summary>
    public double[]? Outcomes { get; init; }
}
