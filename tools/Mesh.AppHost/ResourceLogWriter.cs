using Microsoft.Extensions.Hosting;

namespace Mesh.AppHost;

/// <summary>
/// Copies every service's console output to <c>&lt;state&gt;/run/logs/&lt;resource&gt;.log</c>, so the logs of a
/// run can be read after it ends, with or without the dashboard. Logs stream per running instance (DCP names
/// them <c>router-xxxx</c>), so instances are followed as the notification service reports them.
/// </summary>
internal sealed class ResourceLogWriter(ResourceNotificationService notifications, ResourceLoggerService logs, string folder) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(folder);
        var followed = new HashSet<string>(StringComparer.Ordinal);
        var copies = new List<Task>();
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                if (change.Resource is ProjectResource && followed.Add(change.ResourceId))
                {
                    copies.Add(CopyAsync(change.Resource.Name, change.ResourceId, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(copies).ConfigureAwait(false);
    }

    private async Task CopyAsync(string resource, string instance, CancellationToken stoppingToken)
    {
        await using var writer = new StreamWriter(Path.Combine(folder, resource + ".log"), append: true) { AutoFlush = true };
        try
        {
            await foreach (var batch in logs.WatchAsync(instance).WithCancellation(stoppingToken).ConfigureAwait(false))
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
