namespace Mesh.Cli.ModelHostBench;

/// <param name="Models">Names of the models to measure; empty for all.</param>
/// <param name="ThroughputCallers">Concurrent callers (and in-process threads) of the per-batch-size throughput comparison.</param>
internal sealed record ModelHostBenchSettings(
    double DurationSeconds,
    double WarmupSeconds,
    IReadOnlyList<int> BatchSizes,
    int Callers,
    int MaxQueueDelayMicroseconds,
    int MaxBatchSize,
    string Configuration,
    string Output,
    string? DocsFile,
    IReadOnlyList<string> Models,
    int ThroughputCallers = 4);
