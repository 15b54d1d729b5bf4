using Mesh.MetricsSink.Verdicts;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>The verdicts the summary shows: replaced by the tracking service after each look, read by every snapshot.</summary>
internal sealed class VerdictBoard
{
    private IReadOnlyDictionary<string, ExperimentVerdict> _verdicts = new Dictionary<string, ExperimentVerdict>();

    public ExperimentVerdict? For(string experiment) => Volatile.Read(ref _verdicts).GetValueOrDefault(experiment);

    public void Replace(IReadOnlyDictionary<string, ExperimentVerdict> verdicts) => Volatile.Write(ref _verdicts, verdicts);
}
