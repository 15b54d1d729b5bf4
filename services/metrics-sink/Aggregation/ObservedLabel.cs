using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>What the join keeps of a label: its value as text (a class, or a number's invariant text) and its named outcomes.</summary>
internal sealed record ObservedLabel(string Value, IReadOnlyDictionary<string, double> Outcomes)
{
    /// <summary>The label's record, for the span of the join it completes later; null when read elsewhere or untraced.</summary>
    public RecordTrace? Trace { get; init; }
}
