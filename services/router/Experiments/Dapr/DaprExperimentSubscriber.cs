using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Experiments.Dapr;

/// <summary>
/// Follows the store (SubscribeConfiguration). Each new value is validated by the router's spec loader first: a
/// valid spec replaces the spec file, which the reload loop applies as it applies any file change; an invalid one
/// is logged and counted and the last good spec stays. When the sidecar goes away the router keeps routing, /health
/// says degraded, and it subscribes again (reading the current value first, so nothing changed meanwhile is missed).
/// </summary>
internal sealed partial class DaprExperimentSubscriber(
    IOptions<ExperimentSourceOptions> options,
    DaprSourceState state,
    IMeterFactory meterFactory,
    ILogger<DaprExperimentSubscriber> logger) : BackgroundService
{
    private readonly Counter<long> _rejected = meterFactory.Create("Mesh.Router")
        .CreateCounter<long>("mesh.router.experiments.rejected", "{spec}", "Experiment specs from the Dapr configuration store that failed validation and were not applied.");

    private string? _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var dapr = options.Value.Dapr;
        _last = File.Exists(dapr.SpecFile) ? await File.ReadAllTextAsync(dapr.SpecFile, stoppingToken) : null;
        using var client = DaprClients.Create(dapr);
        var resync = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (resync)
                {
                    var current = await client.GetConfiguration(dapr.Store, [dapr.Key], cancellationToken: stoppingToken);
                    state.Connected();
                    LogBack(logger, dapr.Store);
                    Accept(current.Items.TryGetValue(dapr.Key, out var item) ? item.Value : null, dapr);
                }

                var subscription = await client.SubscribeConfiguration(dapr.Store, [dapr.Key], cancellationToken: stoppingToken);
                await foreach (var update in subscription.Source.WithCancellation(stoppingToken))
                {
                    state.Connected();
                    if (update.TryGetValue(dapr.Key, out var item))
                    {
                        Accept(item.Value, dapr);
                    }
                }

                throw new IOException("the sidecar ended the subscription");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                state.Lost(e.Message);
                LogLost(logger, dapr.Store, e.Message);
                resync = true;
                try
                {
                    await Task.Delay(dapr.ResubscribeMs, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Accept(string? value, DaprSourceOptions dapr)
    {
        if (value == _last)
        {
            return;
        }

        if (DaprSpecFile.Validate(value, dapr, out var error) is not { } text)
        {
            _rejected.Add(1);
            LogRejected(logger, dapr.Store, dapr.Key, error ?? "");
            return;
        }

        DaprSpecFile.Write(dapr.SpecFile, text);
        _last = text;
        LogReceived(logger, dapr.Store, dapr.Key);
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "A new experiment spec from Dapr configuration store {Store} key {Key}: handed to the reload loop")]
    private static partial void LogReceived(ILogger logger, string store, string key);

    [LoggerMessage(EventId = 311, Level = LogLevel.Error, Message = "The experiment spec from Dapr configuration store {Store} key {Key} was rejected; the last good spec stays: {Reason}")]
    private static partial void LogRejected(ILogger logger, string store, string key, string reason);

    [LoggerMessage(EventId = 312, Level = LogLevel.Warning, Message = "Dapr configuration store {Store} lost, routing on with the last good spec: {Reason}")]
    private static partial void LogLost(ILogger logger, string store, string reason);

    [LoggerMessage(EventId = 313, Level = LogLevel.Information, Message = "Dapr configuration store {Store} answers again")]
    private static partial void LogBack(ILogger logger, string store);
}
