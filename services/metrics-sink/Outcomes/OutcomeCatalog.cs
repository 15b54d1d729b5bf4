namespace Mesh.MetricsSink.Outcomes;

/// <summary>Every experiment's declared outcomes, read once at start from <c>MetricsSink:ExperimentFile</c>.</summary>
internal sealed class OutcomeCatalog(IReadOnlyDictionary<string, ExperimentOutcomes> experiments)
{
    public static readonly OutcomeCatalog Empty = new(new Dictionary<string, ExperimentOutcomes>());

    /// <summary>What the experiment declares; <see cref="ExperimentOutcomes.None"/> for one the file does not name.</summary>
    public ExperimentOutcomes For(string experiment) => experiments.GetValueOrDefault(experiment, ExperimentOutcomes.None);
}
