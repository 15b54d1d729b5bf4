using Microsoft.Extensions.Hosting;

namespace Mesh.Kafka;

/// <summary>
/// A hosted service whose consume loop runs on a thread of its own: librdkafka's Consume blocks, and a loop on a
/// pool thread would hold that thread for the life of the process.
/// </summary>
public abstract class ConsumeLoopService : BackgroundService
{
    /// <inheritdoc />
    protected sealed override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The consume loop, until <paramref name="stoppingToken"/> is cancelled.</summary>
    protected abstract void Run(CancellationToken stoppingToken);
}
