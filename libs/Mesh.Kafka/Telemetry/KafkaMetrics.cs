using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Mesh.Kafka.Telemetry;

/// <summary>
/// The Kafka clients' figures on /metrics, one implementation for every service: consumer lag per partition (what
/// KEDA's Kafka scaler scales on), rebalances, and a few librdkafka statistics (broker round trip, transmit and
/// receive errors, request timeouts, the producer queue). Names follow OpenTelemetry's messaging conventions
/// (<c>messaging.*</c>, attributes <c>messaging.consumer.group.name</c>, <c>messaging.destination.name</c>,
/// <c>messaging.destination.partition.id</c>); the conventions define no lag or broker instruments, so those take
/// the <c>messaging.kafka.*</c> prefix the conventions reserve for Kafka.
/// </summary>
public sealed class KafkaMetrics
{
    public const string MeterName = "Mesh.Kafka";

    /// <summary>The <c>event</c> values of the rebalance counter, each at zero from a consumer's creation.</summary>
    public static readonly string[] RebalanceEvents = ["assigned", "revoked", "lost"];

    private readonly ConcurrentQueue<KafkaClientMetrics> _clients = new();
    private readonly Counter<long> _rebalances;

    public KafkaMetrics(IMeterFactory meterFactory)
        : this(meterFactory.Create(MeterName))
    {
    }

    private KafkaMetrics(Meter meter)
    {
        _rebalances = meter.CreateCounter<long>("messaging.kafka.consumer.rebalances", "{rebalance}",
            "Partitions assigned to, revoked from or lost by a consumer of the group, by event.");
        meter.CreateObservableGauge("messaging.kafka.consumer.lag", ObserveLag, "{message}",
            "Messages of a partition not yet committed by the group (high watermark minus committed offset), from librdkafka's statistics.");
        meter.CreateObservableGauge("messaging.kafka.broker.rtt", ObserveRtt, "s", "Average round trip to a broker over the last statistics interval.");
        meter.CreateObservableCounter("messaging.kafka.broker.errors", ObserveErrors, "{error}", "Transmit (tx) and receive (rx) errors on a broker connection.");
        meter.CreateObservableCounter("messaging.kafka.broker.request.timeouts", ObserveTimeouts, "{request}", "Requests to a broker that timed out.");
        meter.CreateObservableGauge("messaging.kafka.producer.queue.messages", ObserveQueue, "{message}", "Messages a producer holds that Kafka has not acknowledged yet.");
    }

    /// <summary>Metrics of a process without a meter factory (tests, tools): observed by any listener, exported by none it did not set up.</summary>
    public static KafkaMetrics Detached() => new(new Meter(MeterName));

    /// <summary>Registers a client; feed the returned figures from its statistics callback.</summary>
    public KafkaClientMetrics Register(string clientId, string? groupId)
    {
        var client = new KafkaClientMetrics(clientId, groupId, isProducer: groupId is null);
        _clients.Enqueue(client);
        if (groupId is not null)
        {
            foreach (var kind in RebalanceEvents)
            {
                _rebalances.Add(0, Group(groupId), new KeyValuePair<string, object?>("event", kind));
            }
        }

        return client;
    }

    /// <summary>The registered consumers of <paramref name="groupId"/>, for a service that acts on its own lag.</summary>
    public IEnumerable<KafkaClientMetrics> Consumers(string groupId) => _clients.Where(c => c.GroupId == groupId);

    /// <summary>Counts one rebalance event (<c>assigned</c>, <c>revoked</c> or <c>lost</c>) of <paramref name="client"/>.</summary>
    public void OnRebalance(KafkaClientMetrics client, string kind) =>
        _rebalances.Add(1, Group(client.GroupId ?? ""), new KeyValuePair<string, object?>("event", kind));

    private static KeyValuePair<string, object?> Group(string groupId) => new("messaging.consumer.group.name", groupId);

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var client in _clients)
        {
            if (client.GroupId is null)
            {
                continue;
            }

            foreach (var lag in client.Latest.Lags)
            {
                yield return new Measurement<long>(lag.Lag,
                    Group(client.GroupId),
                    new KeyValuePair<string, object?>("messaging.destination.name", lag.Topic),
                    new KeyValuePair<string, object?>("messaging.destination.partition.id", lag.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new KeyValuePair<string, object?>("messaging.client.id", client.ClientId));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveRtt() =>
        Brokers().Where(b => b.Figures.RttSeconds is not null).Select(b => new Measurement<double>(b.Figures.RttSeconds!.Value, b.Tags));

    private IEnumerable<Measurement<long>> ObserveErrors()
    {
        foreach (var (figures, tags) in Brokers())
        {
            yield return new Measurement<long>(figures.TransmitErrors, [.. tags, new("direction", "tx")]);
            yield return new Measurement<long>(figures.ReceiveErrors, [.. tags, new("direction", "rx")]);
        }
    }

    private IEnumerable<Measurement<long>> ObserveTimeouts() => Brokers().Select(b => new Measurement<long>(b.Figures.RequestTimeouts, b.Tags));

    private IEnumerable<Measurement<long>> ObserveQueue() =>
        _clients.Where(c => c.IsProducer).Select(c => new Measurement<long>(c.Latest.QueuedMessages, new KeyValuePair<string, object?>("messaging.client.id", c.ClientId)));

    private IEnumerable<(BrokerFigures Figures, KeyValuePair<string, object?>[] Tags)> Brokers() =>
        _clients.SelectMany(c => c.Latest.Brokers.Select(b => (b, new KeyValuePair<string, object?>[]
        {
            new("messaging.client.id", c.ClientId),
            new("server.address", b.Broker),
        })));
}
