using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Producer.Client;

/// <summary>
/// Publishes <see cref="FeatureRecord"/>s from an upstream .NET service with one call, exactly as the producer
/// does: keyed by entity id (sticky arm assignment hashes it), protobuf value (in Confluent's wire format when given a
/// <see cref="WireFormatWriter"/> with a registry), the mesh headers (content type,
/// schema version) and the caller's trace context as <c>traceparent</c>, through an idempotent producer. Create one
/// per process and share it (it is thread-safe); dispose it at shutdown to deliver what is still queued.
/// </summary>
public sealed class FeaturePublisher : IDisposable
{
    /// <summary>The <see cref="ActivitySource"/> of the publish spans; add it to your OpenTelemetry tracing.</summary>
    public const string ActivitySourceName = "Mesh.Producer.Client";

    private static readonly ActivitySource s_activitySource = new(ActivitySourceName);

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly string _topic;
    private readonly WireFormatWriter? _wireFormat;

    /// <param name="config">Kafka settings; idempotence and <c>acks=all</c> are switched on whatever it says.</param>
    /// <param name="topic">The features topic (the mesh's default is <c>mesh.features.v1</c>).</param>
    /// <param name="wireFormat">
    /// Frames values for the topic's schema in the registry (the first record registers or looks it up); plain
    /// protobuf without it. The mesh reads both.
    /// </param>
    public FeaturePublisher(ProducerConfig config, string topic = "mesh.features.v1", WireFormatWriter? wireFormat = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        // Retries after a lost acknowledgement must not duplicate records or reorder an entity's records.
        var settings = new ProducerConfig(new Dictionary<string, string>(config)) { EnableIdempotence = true, Acks = Acks.All };
        _producer = new ProducerBuilder<byte[], byte[]>(settings).Build();
        _topic = topic;
        _wireFormat = wireFormat;
    }

    /// <summary>Connects to <paramref name="bootstrapServers"/> with default settings.</summary>
    public static FeaturePublisher Create(string bootstrapServers, string topic = "mesh.features.v1", WireFormatWriter? wireFormat = null) =>
        new(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5 }, topic, wireFormat);

    /// <summary>Publishes one record and completes when Kafka acknowledged it (throws <see cref="ProduceException{TKey,TValue}"/> when it did not).</summary>
    public Task<DeliveryResult<byte[], byte[]>> PublishAsync(FeatureRecord record, CancellationToken cancellationToken = default)
    {
        var message = ToMessage(record, out var activity);
        using (activity)
        {
            return _producer.ProduceAsync(_topic, message, cancellationToken);
        }
    }

    /// <summary>
    /// Queues one record without waiting (the fast path for many records; librdkafka batches them);
    /// <paramref name="onDelivered"/> hears the outcome on Kafka's delivery thread.
    /// </summary>
    public void Publish(FeatureRecord record, Action<DeliveryReport<byte[], byte[]>>? onDelivered = null)
    {
        var message = ToMessage(record, out var activity);
        using (activity)
        {
            _producer.Produce(_topic, message, onDelivered);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for queued records; returns how many are still undelivered.</summary>
    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }

    private Message<byte[], byte[]> ToMessage(FeatureRecord record, out Activity? activity)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.RequestId.Length == 0 || record.EntityId.Length == 0)
        {
            throw new ArgumentException("A FeatureRecord needs request_id (unique per record) and entity_id (the Kafka key).", nameof(record));
        }

        // A child of the caller's current span, so the router's and model host's spans join the caller's trace.
        activity = s_activitySource.StartActivity($"{_topic} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", _topic);
        activity?.SetTag("messaging.operation.type", "publish");
        return new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(record.EntityId),
            Value = _wireFormat?.Encode(_topic, record) ?? record.ToByteArray(),
            Headers = MeshHeaders.Create<FeatureRecord>(activity ?? Activity.Current),
        };
    }
}
