using Mesh.Router.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Experiments;

/// <summary>
/// Hot reload and bandit refresh. The experiment file is polled rather than watched: a polled file also notices
/// a Kubernetes ConfigMap's symlink swap and editors that replace the file, which file-system events miss.
/// A file that fails to load is logged and the experiments in force stay.
/// </summary>
internal sealed partial class ExperimentMaintenance(
    ExperimentRegistry registry,
    IOptions<RouterOptions> options,
    ILogger<ExperimentMaintenance> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ReloadLoopAsync(stoppingToken), BanditLoopAsync(stoppingToken));

    private async Task ReloadLoopAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ReloadIntervalMs == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ReloadIntervalMs));
        string? lastError = null;
        while (await WaitAsync(timer, stoppingToken))
        {
            if (registry.Current.All.Count == 0)
            {
                // The pipeline has not applied the first spec yet.
                continue;
            }

            try
            {
                if ((await registry.ReloadFromFileAsync(options.Value.ExperimentFile, force: false, stoppingToken)).Applied)
                {
                    LogReloaded(logger, options.Value.ExperimentFile);
                }

                lastError = null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Said once per distinct error, not once a second.
                if (e.Message != lastError)
                {
                    LogReloadFailed(logger, options.Value.ExperimentFile, e.Message);
                    lastError = e.Message;
                }
            }
        }
    }

    private async Task BanditLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.Bandit.RefreshMs));
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                await registry.RefreshBanditsAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Redis away: choices go on from the last state read; pulls are counted again at the next refresh.
                LogBanditRefreshFailed(logger, e.Message);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Reloaded the experiment file {Path}")]
    private static partial void LogReloaded(ILogger logger, string path);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "The experiment file {Path} was not applied; the experiments in force stay: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Bandit state not refreshed: {Reason}")]
    private static partial void LogBanditRefreshFailed(ILogger logger, string reason);
}
