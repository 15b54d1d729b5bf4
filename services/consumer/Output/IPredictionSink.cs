using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>Where decoded predictions go. What was written counts as kept only once <see cref="Flush"/> returned true.</summary>
internal interface IPredictionSink : IDisposable
{
    public string Description { get; }

    /// <summary>
    /// Writes one prediction; <paramref name="raw"/> is its protobuf bytes (without a Schema Registry header), for
    /// sinks that keep unknown fields.
    /// </summary>
    public void Write(Prediction prediction, ArraySegment<byte> raw);

    /// <summary>
    /// Makes what was written durable where the sink can do so now and says whether it did: a Parquet file, for
    /// one, is only readable once closed, so it says no until it rolls. <paramref name="force"/> (partitions
    /// revoked, shutdown) makes everything durable.
    /// </summary>
    public bool Flush(bool force);
}
