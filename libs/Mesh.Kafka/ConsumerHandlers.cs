using Confluent.Kafka;

namespace Mesh.Kafka;

/// <summary>
/// What a service adds to a consumer's librdkafka callbacks. <see cref="KafkaClientFactory"/> owns the callbacks
/// (a builder takes each only once) and runs these after its own logging and health bookkeeping.
/// </summary>
public sealed record ConsumerHandlers(
    Action<Error>? OnFatal = null,
    Action<IConsumer<byte[], byte[]>, List<TopicPartition>>? OnAssigned = null,
    Action<IConsumer<byte[], byte[]>, List<TopicPartitionOffset>>? OnRevoked = null,
    Action<IConsumer<byte[], byte[]>, List<TopicPartitionOffset>>? OnLost = null);
