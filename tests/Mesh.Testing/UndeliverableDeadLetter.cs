using Mesh.EmbeddedBroker;
using Mesh.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Mesh.Testing;

/// <summary>
/// A dead letter Kafka never acknowledges, on the embedded broker: every broker answers 4 s late, longer than the
/// service's producer message timeout (the test sets <c>Kafka:Producer:MessageTimeoutMs</c> below that), so each
/// attempt to write the dead letter times out.
/// </summary>
public static class UndeliverableDeadLetter
{
    private const int DelayMs = 4000;
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Starts <paramref name="app"/>, waits for <paramref name="untilReading"/> (the service is assigned and reading),
    /// sends the bad record through the slowed brokers and asserts the service stops with the fatal exit code; the
    /// app is stopped after, whatever happened.
    /// </summary>
    public static async Task AssertStopsTheServiceAsync(EmbeddedKafkaBroker broker, IHost app, string service, Func<Task> untilReading, Func<Task> produceBadRecord)
    {
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        await app.StartAsync();
        try
        {
            await untilReading();
            var (stopping, exitCode) = await SendAsync(broker, lifetime, produceBadRecord);
            Assert.True(stopping, $"the {service} kept running with a dead letter Kafka did not take");
            Assert.Equal(FatalError.ExitCode, exitCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    /// <summary>
    /// Slows the brokers, lets <paramref name="produceBadRecord"/> send a record the running service must dead-letter,
    /// and waits (bounded) for the service to begin stopping. Returns whether it did and the process exit code it set;
    /// the brokers' speed and the test host's own exit code are restored after.
    /// </summary>
    public static async Task<(bool Stopping, int ExitCode)> SendAsync(EmbeddedKafkaBroker broker, IHostApplicationLifetime lifetime, Func<Task> produceBadRecord)
    {
        try
        {
            SetRtt(broker, DelayMs);
            await produceBadRecord();
            var stopping = new TaskCompletionSource();
            using (lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()))
            {
                // Three attempts of about a second each, once the record arrives through the delayed broker.
                await Task.WhenAny(stopping.Task, Task.Delay(s_patience));
            }

            return (lifetime.ApplicationStopping.IsCancellationRequested, Environment.ExitCode);
        }
        finally
        {
            // The test host's own exit code is not the service's.
            Environment.ExitCode = 0;
            SetRtt(broker, 0);
        }
    }

    private static void SetRtt(EmbeddedKafkaBroker broker, int milliseconds)
    {
        for (var id = 1; id <= broker.BrokerCount; id++)
        {
            broker.SetBrokerRtt(id, milliseconds);
        }
    }
}
