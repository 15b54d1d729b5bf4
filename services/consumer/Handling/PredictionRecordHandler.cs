using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Consumer.Output;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Consumer.Handling;

/// <summary>
/// The consumer's record handler: decodes consumed records (framed in Confluent's wire format or plain), keeps those the filter wants and writes them to the
/// sink; releases offsets only for what the sink made durable (or what was filtered out, or dead-lettered and
/// acknowledged), in partition order, so a crash never skips an unwritten record.
/// </summary>
internal sealed class PredictionRecordHandler(
    IPredictionSink sink,
    OffsetTracker offsets,
    PredictionFilter? filter = null,
    WireFormatReader? reader = null,
    PredictionDeduplicator? deduplicator = null)
{
    private readonly PredictionFilter _filter = filter ?? PredictionFilter.All;
    private readonly WireFormatReader _reader = reader ?? WireFormatReader.Unchecked;

    private static readonly string s_contentType = MeshHeaders.ContentTypeOf<Prediction>();
    private readonly List<TopicPartitionOffset> _unflushed = [];

    /// <summary>Records handled since their offsets were last released (written or filtered out).</summary>
    public int Unflushed => _unflushed.Count;

    /// <summary>
    /// Tracks the record and writes its line. Returns false with the reason when it cannot be decoded; the caller
    /// dead-letters it and calls <see cref="CompleteDeadLetter"/> once that is acknowledged.
    /// </summary>
    public bool TryHandle(ConsumeResult<byte[], byte[]> record, out string error)
    {
        offsets.Track(record.TopicPartition, record.Offset.Value);
        error = "";
        if (record.Message.Value is null)
        {
            // A tombstone (compaction's delete marker) is no prediction: an empty line would read as one, and a dead
            // letter would call a normal Kafka record an error. Skipped, counted, its offset released in order.
            Tombstones++;
            _unflushed.Add(record.TopicPartitionOffset);
            return true;
        }

        var contentType = MeshHeaders.GetString(record.Message.Headers, MeshHeaders.ContentType);
        if (contentType is not null && contentType != s_contentType)
        {
            error = $"expected content type '{s_contentType}', got '{contentType}'";
            return false;
        }

        Prediction prediction;
        var raw = record.Message.Value;
        try
        {
            prediction = _reader.Decode<Prediction>(record.Topic, raw);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = "not a mesh.v1.Prediction: " + e.Message;
            return false;
        }
        catch (UndecodableValueException e)
        {
            // Its message names the schema id and the subject.
            error = e.Message;
            return false;
        }

        if (!_filter.Keeps(prediction))
        {
            Filtered++;
        }
        else if (deduplicator is not null && !deduplicator.TryAdd(prediction))
        {
            // Written already: a replay, or the router's at-least-once redelivery after a restart.
            Duplicates++;
        }
        else
        {
            sink.Write(prediction, ProtobufBytes(raw));
            Written++;
        }

        // Filtered and duplicate records release their offsets with the written ones around them, in order.
        _unflushed.Add(record.TopicPartitionOffset);
        return true;
    }

    // The message's own bytes, without a wire-format header (a decoded value's header is well formed).
    private static ArraySegment<byte> ProtobufBytes(byte[] raw)
    {
        if (!ConfluentWireFormat.IsFramed(raw))
        {
            return raw;
        }

        Span<int> path = stackalloc int[ConfluentWireFormat.MaxMessageDepth];
        ConfluentWireFormat.TryReadHeader(raw, out _, path, out _, out var headerLength);
        return new ArraySegment<byte>(raw, headerLength, raw.Length - headerLength);
    }

    /// <summary>Predictions written to the sink.</summary>
    public long Written { get; private set; }

    /// <summary>Predictions the filter left out.</summary>
    public long Filtered { get; private set; }

    /// <summary>Predictions not written because the same request id was written already (see <see cref="PredictionDeduplicator"/>).</summary>
    public long Duplicates { get; private set; }

    /// <summary>Records without a value (tombstones): skipped, not written and not dead-lettered.</summary>
    public long Tombstones { get; private set; }

    /// <summary>
    /// Flushes the sink, then returns the offsets that may now be stored (one per partition): none while the sink
    /// says its rows are not durable yet (Parquet before a roll). <paramref name="force"/> makes it durable now.
    /// </summary>
    public IReadOnlyList<TopicPartitionOffset> Flush(bool force = false)
    {
        if (_unflushed.Count == 0)
        {
            return [];
        }

        // If this throws, nothing below runs: unflushed lines never release their offsets.
        if (!sink.Flush(force))
        {
            return [];
        }

        var release = new Dictionary<TopicPartition, long>();
        foreach (var written in _unflushed)
        {
            var next = offsets.Complete(written.TopicPartition, written.Offset.Value);
            if (next is long value)
            {
                release[written.TopicPartition] = value;
            }
        }

        _unflushed.Clear();
        return release.Select(p => new TopicPartitionOffset(p.Key, p.Value)).ToList();
    }

    /// <summary>Marks a dead-lettered record done; returns the offset to store, if one is released.</summary>
    public TopicPartitionOffset? CompleteDeadLetter(TopicPartition partition, long offset) =>
        offsets.Complete(partition, offset) is long next ? new TopicPartitionOffset(partition, next) : null;

    /// <summary>Forgets revoked partitions: their pending lines no longer release offsets.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        var revoked = partitions.ToHashSet();
        _unflushed.RemoveAll(o => revoked.Contains(o.TopicPartition));
        offsets.Forget(revoked);
    }
}
