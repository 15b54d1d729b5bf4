using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Kafka.Health;

/// <summary>
/// Ends the process when Kafka stays out of reach past its bound: never reached since start (a wrong
/// <c>Kafka:BootstrapServers</c>, exit 78) or lost for <see cref="KafkaHealthOptions.ExitAfterSeconds"/> (exit 70),
/// so a broker outage does not leave a live-looking process retrying for ever.
/// </summary>
internal sealed class KafkaHealthWatchdog(KafkaHealth health, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<KafkaHealthWatchdog> logger)
    : BackgroundService
{
    private static readonly TimeSpan s_period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (health.Evaluate() is { ExitCode: { } code, ExitReason: { } reason })
                {
                    Stop(code, reason);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Stop(int code, string reason)
    {
        if (code == FatalError.ConfigurationExitCode)
        {
            // A configuration error is one line for the operator, as at every other refusal to start.
            Console.Error.WriteLine($"error: invalid configuration, the service did not start: {reason}");
            Environment.ExitCode = code;
            lifetime.StopApplication();
            return;
        }

        FatalError.Stop(lifetime, logger, reason);
    }
}
