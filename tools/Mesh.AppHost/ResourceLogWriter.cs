using Microsoft.Extensions.Hosting;

namespace Mesh.AppHost;

/// <summary>
/// Copies every resource's console output to <c>&lt;state&gt;/run/logs/&lt;resource&gt;.log</c>, so the logs of a
/// run can be read after it ends, with or without the dashboard.
/// </summary>
internal sealed class ResourceLogWriter(ResourceLoggerService logs, string folder) : BackgroundService
{
    private static readonly string[] s_resources = ["broker", "model-host", "router", "producer", "consumer", "metrics-sink"];

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(folder);
        return Task.WhenAll(s_resources.Select(r => CopyAsync(r, stoppingToken)));
    }

    private async Task CopyAsync(string resource, CancellationToken stoppingToken)
    {
        await using var writer = new StreamWriter(Path.Combine(folder, resource + ".log"), append: false) { AutoFlush = true };
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                foreach (var line in batch)
                {
                    await writer.WriteLineAsync(line.Content).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
