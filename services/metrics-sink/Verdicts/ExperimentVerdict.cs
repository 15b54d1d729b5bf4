namespace Mesh.MetricsSink.Verdicts;

/// <summary>One experiment's verdict as of its latest look (added to <c>summary.json</c> and logged to MLflow).</summary>
/// <param name="State"><c>collecting</c>, <c>no difference yet</c> or <c>winner</c>.</param>
/// <param name="Winner">The arm the evidence says beats every other primary arm, once the test says so; never one the evidence is against.</param>
/// <param name="PValue">Always-valid p-value, in the winner's direction, of its weakest comparison (or of the closest candidate's).</param>
/// <param name="Difference">Accuracy of the winner (else the leader) minus the best other arm's.</param>
/// <param name="Looks">How many times the test has looked at the data.</param>
/// <param name="Alpha">The false-positive rate the test holds however often it is looked at.</param>
internal sealed record ExperimentVerdict(string State, string? Winner, double PValue, double Difference, long Looks, double Alpha, string Text)
{
    /// <summary>The declared outcome the arms were compared on (its mean; docs/outcomes.md); null: accuracy.</summary>
    public string? Outcome { get; init; }
}
