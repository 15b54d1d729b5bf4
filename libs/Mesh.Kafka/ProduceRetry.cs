using Confluent.Kafka;

namespace Mesh.Kafka;

/// <summary>
/// Produces through librdkafka's local queue when it is full (<see cref="ErrorCode.Local_QueueFull"/>): waiting for
/// deliveries to drain is backpressure, but only for a bounded time, so a producer whose broker stopped acknowledging
/// fails with a message that says so instead of hanging its caller forever.
/// </summary>
public static class ProduceRetry
{
    /// <summary>The longest a produce waits for room in the local queue unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan s_firstWait = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_longestWait = TimeSpan.FromMilliseconds(50);

    /// <summary>Produces <paramref name="message"/> to <paramref name="topic"/>, waiting while the local queue is full.</summary>
    /// <exception cref="TimeoutException">The queue stayed full for longer than <paramref name="maxWait"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    public static void Produce<TKey, TValue>(
        IProducer<TKey, TValue> producer,
        string topic,
        Message<TKey, TValue> message,
        Action<DeliveryReport<TKey, TValue>>? onDelivered,
        CancellationToken cancellationToken,
        TimeSpan? maxWait = null) =>
        WhenQueueHasRoom(
            (producer, topic, message, onDelivered),
            static s => s.producer.Produce(s.topic, s.message, s.onDelivered),
            cancellationToken,
            maxWait);

    /// <summary>
    /// Runs <paramref name="produce"/> (one call to <c>IProducer.Produce</c>, possibly behind a publisher) until it does
    /// not fail with a full local queue.
    /// </summary>
    /// <exception cref="TimeoutException">The queue stayed full for longer than <paramref name="maxWait"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    public static void WhenQueueHasRoom<TState>(TState state, Action<TState> produce, CancellationToken cancellationToken, TimeSpan? maxWait = null)
    {
        var backoff = new Backoff(s_firstWait, s_longestWait, maxWait ?? DefaultMaxWait);
        while (true)
        {
            try
            {
                produce(state);
                return;
            }
            catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The queue drains as Kafka acknowledges (the client's poll thread serves the deliveries).
                if (backoff.Exceeded())
                {
                    throw new TimeoutException(
                        $"The Kafka producer's local queue stayed full for {backoff.Bound.TotalSeconds:0.###} s: the cluster is not acknowledging " +
                        "(see queue.buffering.max.messages / queue.buffering.max.kbytes and the broker's health).", e);
                }

                backoff.Wait(cancellationToken);
            }
        }
    }
}
