using Confluent.Kafka;

namespace Mesh.Router.Routing;

/// <summary>
/// The producer shadow predictions go through. In exactly-once mode it is a producer of its own, outside the
/// transactions: a shadow owes nothing to the record's offsets, so a failed shadow produce must never abort a
/// transaction and a commit must never wait for shadows. Otherwise it is the router's one producer.
/// </summary>
internal sealed class ShadowProducer(IProducer<byte[], byte[]> producer, bool owned) : IDisposable
{
    public IProducer<byte[], byte[]> Producer => producer;

    /// <summary>Sends what is queued; only the router's own producer is flushed elsewhere.</summary>
    public void Flush(TimeSpan timeout)
    {
        if (owned)
        {
            producer.Flush(timeout);
        }
    }

    public void Dispose()
    {
        if (owned)
        {
            producer.Dispose();
        }
    }
}
