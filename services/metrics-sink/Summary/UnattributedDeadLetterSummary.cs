namespace Mesh.MetricsSink.Summary;

/// <param name="WithoutExperiment">Records the router dead-lettered before choosing any experiment's arm (decode, validation).</param>
/// <param name="ByExperiment">Dead letters that name an experiment but no arm.</param>
internal sealed record UnattributedDeadLetterSummary(long WithoutExperiment, IReadOnlyDictionary<string, long> ByExperiment);
