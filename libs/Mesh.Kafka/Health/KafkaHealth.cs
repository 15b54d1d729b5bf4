using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Mesh.Kafka.Health;

/// <summary>
/// The Kafka clients of this process and what they say about the cluster, judged against <see cref="KafkaHealthOptions"/>.
/// Every client made by <see cref="KafkaClientFactory"/> registers here; clients live as long as the process.
/// </summary>
public sealed class KafkaHealth(IOptions<KafkaOptions> options, TimeProvider time)
{
    private readonly object _gate = new();
    private readonly List<KafkaClientHealth> _clients = [];

    /// <summary>Registers a client; feed the returned tracker from the client's librdkafka handlers.</summary>
    public KafkaClientHealth Register(string name, bool isConsumer)
    {
        var client = new KafkaClientHealth(name, isConsumer, time);
        lock (_gate)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>
    /// Judges every client now: ready once each has reached a broker and each consumer has its assignment;
    /// unhealthy when none of a client's brokers has answered for <see cref="KafkaHealthOptions.UnhealthyAfterSeconds"/>.
    /// The verdict says when the process must end instead.
    /// </summary>
    public KafkaVerdict Evaluate()
    {
        KafkaClientHealth[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
        }

        var o = options.Value;
        var now = time.GetUtcNow();
        var problems = new List<string>();
        foreach (var snapshot in clients.Select(c => c.Read()))
        {
            if (snapshot.UnreachableSince is { } since)
            {
                var down = now - since;
                if (!snapshot.EverReached && down >= TimeSpan.FromSeconds(o.BootstrapWaitSeconds))
                {
                    return KafkaVerdict.Exit(
                        FatalError.ConfigurationExitCode,
                        $"Kafka:BootstrapServers: no broker answered at '{DescribeServers(o)}' within {o.BootstrapWaitSeconds} s " +
                        "(Kafka:BootstrapWaitSeconds); expected the address of a running cluster.");
                }

                if (snapshot.EverReached && down >= TimeSpan.FromSeconds(o.Health.ExitAfterSeconds))
                {
                    return KafkaVerdict.Exit(
                        FatalError.ExitCode,
                        $"no Kafka broker reachable from {snapshot.Name} for {down.TotalSeconds:F0} s (Kafka:Health:ExitAfterSeconds={o.Health.ExitAfterSeconds}).");
                }

                if (!snapshot.EverReached)
                {
                    problems.Add($"{snapshot.Name} has not reached a broker yet");
                    continue;
                }

                if (down >= TimeSpan.FromSeconds(o.Health.UnhealthyAfterSeconds))
                {
                    problems.Add($"{snapshot.Name} has reached no broker for {down.TotalSeconds:F0} s");
                    continue;
                }
            }

            if (snapshot.IsConsumer && !snapshot.Assigned)
            {
                problems.Add($"{snapshot.Name} has not joined its group yet");
            }
        }

        return problems.Count == 0
            ? new KafkaVerdict(HealthStatus.Healthy, $"{clients.Length} Kafka client(s) connected", null, null)
            : new KafkaVerdict(HealthStatus.Unhealthy, string.Join("; ", problems), null, null);
    }

    private static string DescribeServers(KafkaOptions o) =>
        string.IsNullOrWhiteSpace(o.BootstrapServers) ? $"(from {o.BootstrapFile})" : o.BootstrapServers.Trim();
}
