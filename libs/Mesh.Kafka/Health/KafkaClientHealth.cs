using System.Text.Json;
using Confluent.Kafka;

namespace Mesh.Kafka.Health;

/// <summary>
/// What one Kafka client knows about its cluster, fed by librdkafka's callbacks: whether any broker connection
/// is up (statistics, and the "all brokers down" error), since when none is, and, for a consumer, whether it has
/// joined its group and received an assignment.
/// </summary>
public sealed class KafkaClientHealth
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private DateTimeOffset? _unreachableSince;
    private bool _everReached;
    private bool _assigned;
    private bool _connectFailureLogged;

    internal KafkaClientHealth(string name, bool isConsumer, TimeProvider time)
    {
        Name = name;
        IsConsumer = isConsumer;
        _time = time;
        // Not reached yet: the clock of "no broker" starts when the client is made.
        _unreachableSince = time.GetUtcNow();
    }

    public string Name { get; }

    public bool IsConsumer { get; }

    /// <summary>
    /// Records a client error. Returns true when it is news worth a log line: the first of an outage, or any
    /// other kind. Repeats while no broker is reachable (librdkafka reports each reconnect attempt) return false.
    /// </summary>
    public bool OnError(Error error)
    {
        lock (_gate)
        {
            var wasDown = _unreachableSince is not null;
            if (error.Code == ErrorCode.Local_AllBrokersDown)
            {
                _unreachableSince ??= _time.GetUtcNow();
            }

            var connectionError = error.Code is ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport;
            return !(wasDown && connectionError);
        }
    }

    /// <summary>
    /// Whether librdkafka's "connect failed" log line is worth showing: the first one since a broker last answered
    /// is; the rest of the outage (one per reconnect attempt, every 50 ms at first) is not.
    /// </summary>
    public bool IsFirstConnectFailure()
    {
        lock (_gate)
        {
            var first = !_connectFailureLogged;
            _connectFailureLogged = true;
            return first;
        }
    }

    /// <summary>Reads librdkafka's statistics JSON: reachable when any real broker connection is <c>UP</c>.</summary>
    public void OnStatistics(string json)
    {
        var up = AnyBrokerUp(json);
        if (up is null)
        {
            return;
        }

        lock (_gate)
        {
            if (up.Value)
            {
                _everReached = true;
                _unreachableSince = null;
                _connectFailureLogged = false;
            }
            else
            {
                _unreachableSince ??= _time.GetUtcNow();
            }
        }
    }

    /// <summary>A completed join: the group answered, so the broker is reachable, and the member has its (possibly empty) share.</summary>
    public void OnAssigned()
    {
        lock (_gate)
        {
            _assigned = true;
            _everReached = true;
            _unreachableSince = null;
            _connectFailureLogged = false;
        }
    }

    /// <summary>Partitions lost (the session expired): not a member until the next assignment.</summary>
    public void OnLost()
    {
        lock (_gate)
        {
            _assigned = false;
        }
    }

    internal Snapshot Read()
    {
        lock (_gate)
        {
            return new Snapshot(Name, IsConsumer, _unreachableSince, _everReached, _assigned);
        }
    }

    // Null when the JSON has no broker list (nothing learned either way).
    internal static bool? AnyBrokerUp(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (!document.RootElement.TryGetProperty("brokers", out var brokers) || brokers.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var any = false;
            foreach (var broker in brokers.EnumerateObject())
            {
                // The internal broker (librdkafka's own queue) is always "UP" and says nothing about the cluster.
                if (broker.Value.TryGetProperty("source", out var source) && source.GetString() == "internal")
                {
                    continue;
                }

                any = true;
                if (broker.Value.TryGetProperty("state", out var state) && state.GetString() == "UP")
                {
                    return true;
                }
            }

            return any ? false : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal readonly record struct Snapshot(string Name, bool IsConsumer, DateTimeOffset? UnreachableSince, bool EverReached, bool Assigned);
}
