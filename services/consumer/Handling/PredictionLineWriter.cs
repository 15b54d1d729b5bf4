using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Consumer.Output;
using Mesh.Contracts.V1;
using Mesh.Kafka;

namespace Mesh.Consumer.Handling;

/// <summary>
/// Decodes consumed records and writes them as JSON lines; releases offsets only for what was flushed (or
/// dead-lettered and acknowledged), in partition order, so a crash never skips an unwritten record.
/// </summary>
internal sealed class PredictionLineWriter(ILineSink sink, OffsetTracker offsets)
{
    private static readonly string s_contentType = MeshHeaders.ContentTypeOf<Prediction>();
    private readonly List<TopicPartitionOffset> _unflushed = [];

    /// <summary>Lines written since the last flush.</summary>
    public int Unflushed => _unflushed.Count;

    /// <summary>
    /// Tracks the record and writes its line. Returns false with the reason when it cannot be decoded; the caller
    /// dead-letters it and calls <see cref="CompleteDeadLetter"/> once that is acknowledged.
    /// </summary>
    public bool TryWrite(ConsumeResult<byte[], byte[]> record, out string error)
    {
        offsets.Track(record.TopicPartition, record.Offset.Value);
        var contentType = MeshHeaders.GetString(record.Message.Headers, MeshHeaders.ContentType);
        if (contentType is not null && contentType != s_contentType)
        {
            error = $"expected content type '{s_contentType}', got '{contentType}'";
            return false;
        }

        Prediction prediction;
        try
        {
            prediction = Prediction.Parser.ParseFrom(record.Message.Value ?? []);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = "not a mesh.v1.Prediction: " + e.Message;
            return false;
        }

        sink.WriteLine(PredictionLineFormatter.Format(prediction));
        _unflushed.Add(record.TopicPartitionOffset);
        error = "";
        return true;
    }

    /// <summary>Flushes the sink, then returns the offsets that may now be stored (one per partition).</summary>
    public IReadOnlyList<TopicPartitionOffset> Flush()
    {
        if (_unflushed.Count == 0)
        {
            return [];
        }

        // If this throws, nothing below runs: unflushed lines never release their offsets.
        sink.Flush();
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
