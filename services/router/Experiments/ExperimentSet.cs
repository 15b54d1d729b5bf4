namespace Mesh.Router.Experiments;

/// <summary>All experiments, as one immutable set the consume thread reads with one volatile load per record.</summary>
internal sealed class ExperimentSet(IReadOnlyList<ExperimentRuntime> experiments)
{
    private readonly Dictionary<string, ExperimentRuntime[]> _byTopic = experiments
        .GroupBy(e => e.InputTopic, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    public static ExperimentSet Empty { get; } = new([]);

    public IReadOnlyList<ExperimentRuntime> All => experiments;

    public IReadOnlyCollection<string> InputTopics => _byTopic.Keys;

    public IReadOnlyList<ExperimentRuntime> ForTopic(string topic) => _byTopic.TryGetValue(topic, out var found) ? found : [];

    public ExperimentRuntime? Find(string name) => experiments.FirstOrDefault(e => e.Name == name);
}
