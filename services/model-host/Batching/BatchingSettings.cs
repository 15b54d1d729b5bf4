namespace Mesh.ModelHost.Batching;

/// <summary>
/// Dynamic batching of one model version (<c>ModelHost:Batching</c>, or <c>dynamicBatching</c> in config.json).
/// <paramref name="MaxConcurrentBatches"/> is how many batches of this version may run at the same time.
/// </summary>
internal sealed record BatchingSettings(bool Enabled, int MaxBatchSize, int MaxQueueDelayMicroseconds, int MaxQueueSize, int MaxConcurrentBatches = 1);
