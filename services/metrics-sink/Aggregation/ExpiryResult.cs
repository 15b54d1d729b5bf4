namespace Mesh.MetricsSink.Aggregation;

/// <summary>What an expiry pass removed.</summary>
internal readonly record struct ExpiryResult(int Entries, int UnmatchedLabels, int UnjoinedPredictions);
