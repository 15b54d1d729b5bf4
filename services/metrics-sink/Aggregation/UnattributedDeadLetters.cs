namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The router's dead letters that name no arm: per experiment when they name one, else overall (records that failed
/// before any arm was chosen: decode and validation errors). Guarded by the joiner's lock.
/// </summary>
internal sealed class UnattributedDeadLetters
{
    private readonly Dictionary<string, long> _byExperiment = new(StringComparer.Ordinal);
    private long _withoutExperiment;

    public void Record(string experiment)
    {
        if (experiment.Length == 0)
        {
            _withoutExperiment++;
        }
        else
        {
            _byExperiment[experiment] = _byExperiment.GetValueOrDefault(experiment) + 1;
        }
    }

    public Summary.UnattributedDeadLetterSummary Summarize() => new(_withoutExperiment, new SortedDictionary<string, long>(_byExperiment, StringComparer.Ordinal));
}
