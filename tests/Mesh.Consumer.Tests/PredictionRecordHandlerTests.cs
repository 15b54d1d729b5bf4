namespace Mesh.Consumer.Tests;

public sealed class PredictionRecordHandlerTests
{
    private readonly MemoryLineSink _sink = new();
    private readonly OffsetTracker _offsets = new();

    [Fact]
    public void TryHandle_BeforeFlush_ReleasesNoOffsetAndFlushesNothing()
    {
        var handler = new PredictionRecordHandler(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(handler.TryHandle(Records.Consumed("p", 0, i, Records.Prediction($"r{i}")), out _));
        }

        Assert.Empty(_sink.Flushed);
        Assert.Equal(3, _offsets.PendingCount);
        Assert.Equal(3, handler.Unflushed);
    }

    [Fact]
    public void Flush_AfterWrites_ReleasesNextOffsetPerPartitionAfterTheLinesAreFlushed()
    {
        var handler = new PredictionRecordHandler(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets);
        handler.TryHandle(Records.Consumed("p", 0, 10, Records.Prediction("a")), out _);
        handler.TryHandle(Records.Consumed("p", 0, 11, Records.Prediction("b")), out _);
        handler.TryHandle(Records.Consumed("p", 1, 5, Records.Prediction("c")), out _);

        var released = handler.Flush();

        Assert.Equal(["a", "b", "c"], _sink.Flushed.Select(l => PredictionLineFormatter.Parse(l).RequestId));
        Assert.Equal(2, released.Count);
        Assert.Contains(new TopicPartitionOffset("p", 0, 12), released);
        Assert.Contains(new TopicPartitionOffset("p", 1, 6), released);
        Assert.Empty(handler.Flush());
    }

    [Fact]
    public void Flush_SinkFails_ReleasesNoOffset()
    {
        var handler = new PredictionRecordHandler(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets);
        handler.TryHandle(Records.Consumed("p", 0, 0, Records.Prediction("a")), out _);
        _sink.FailFlush = true;

        Assert.Throws<IOException>(() => handler.Flush());

        Assert.Equal(1, _offsets.PendingCount);
    }

    [Fact]
    public void TryHandle_UndecodableRecord_ReportsItAndHoldsLaterOffsetsUntilDeadLettered()
    {
        var handler = new PredictionRecordHandler(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets);
        handler.TryHandle(Records.Consumed("p", 0, 0, Records.Prediction("a")), out _);

        var decoded = handler.TryHandle(Records.Consumed("p", 0, 1, [0xFF, 0xFF, 0xFF]), out var error);
        handler.TryHandle(Records.Consumed("p", 0, 2, Records.Prediction("c")), out _);
        var released = handler.Flush();

        Assert.False(decoded);
        Assert.NotEmpty(error);
        Assert.Equal(2, _sink.Flushed.Count);
        Assert.Equal([new TopicPartitionOffset("p", 0, 1)], released);
        Assert.Equal(new TopicPartitionOffset("p", 0, 3), handler.CompleteDeadLetter(new TopicPartition("p", 0), 1));
    }

    [Fact]
    public void TryHandle_WrongContentType_IsUndecodable()
    {
        var handler = new PredictionRecordHandler(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets);
        var headers = MeshHeaders.Create<Mesh.Contracts.V1.Label>(null);

        var decoded = handler.TryHandle(Records.Consumed("p", 0, 0, Records.Prediction("a").ToByteArray(), headers), out var error);

        Assert.False(decoded);
        Assert.Contains("mesh.v1.Label", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryHandle_Tombstone_SkipsItCountedAndReleasesItsOffsetInOrder()
    {
        var handler = new PredictionRecordHandler(new LinePredictionSink(_sink, PredictionLineFormat.Json), _offsets);
        handler.TryHandle(Records.Consumed("p", 0, 0, Records.Prediction("a")), out _);
        var tombstone = new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset("p", 0, 1),
            Message = new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = null! },
        };

        var handled = handler.TryHandle(tombstone, out var error);
        handler.TryHandle(Records.Consumed("p", 0, 2, Records.Prediction("c")), out _);
        var released = handler.Flush();

        Assert.True(handled, error);
        Assert.Equal((1L, 2L), (handler.Tombstones, handler.Written));
        // Two lines, both real predictions: no empty one for the tombstone.
        Assert.Equal(["a", "c"], _sink.Flushed.Select(l => PredictionLineFormatter.Parse(l).RequestId));
        Assert.Equal(new TopicPartitionOffset("p", 0, 3), Assert.Single(released));
    }
}
