namespace Mesh.Router.Tests;

/// <summary>The router's bookkeeping when partitions are revoked or lost: nothing of a partition that moved is used.</summary>
public sealed class RebalanceTests
{
    private static readonly TopicPartition s_p0 = new("features", 0);
    private static readonly TopicPartition s_p1 = new("features", 1);

    private static ConsumeResult<byte[], byte[]> Record(TopicPartition partition, long offset) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(partition, new Offset(offset)),
        Message = new Message<byte[], byte[]> { Key = [], Value = [] },
    };

    [Fact]
    public void StashedRecords_PartitionRevoked_ItsRecordsAreDroppedAndTheOthersKeepTheirOrder()
    {
        var stash = new StashedRecords();
        stash.Add(Record(s_p0, 10));
        stash.Add(Record(s_p1, 20));
        stash.Add(Record(s_p0, 11));
        stash.Add(Record(s_p1, 21));

        Assert.Equal(2, stash.Remove([s_p0]));

        var left = new List<long>();
        while (stash.TryTake(out var record))
        {
            Assert.Equal(s_p1, record.TopicPartition);
            left.Add(record.Offset.Value);
        }

        Assert.Equal([20, 21], left);
    }

    [Fact]
    public void TransactionOffsets_RecordOfARevokedPartitionFinishesLate_NoOffsetIsCommittedForIt()
    {
        var offsets = new TransactionOffsets();
        offsets.OnAssigned([s_p0, s_p1]);
        offsets.OnHandled(s_p0, 5);
        offsets.OnHandled(s_p1, 7);

        offsets.OnRemoved([s_p0]);
        // A record of p0 that was already in hand when p0 was revoked.
        offsets.OnHandled(s_p0, 6);

        var committed = Assert.Single(offsets.Take());
        Assert.Equal((s_p1, 8L), (committed.TopicPartition, committed.Offset.Value));

        offsets.OnAssigned([s_p0]);
        offsets.OnHandled(s_p0, 30);
        Assert.Equal(31, Assert.Single(offsets.Take()).Offset.Value);
    }

    [Fact]
    public void RecordCompletion_PartitionLostWhileItsRecordWasInFlight_ReleasesNoOffsetForIt()
    {
        var tracker = new OffsetTracker();
        var completion = new RecordCompletion(tracker, new NoLifetime(), NullLogger<RecordCompletion>.Instance);
        var lost = new RoutedRecord(Record(s_p0, 3), DateTime.UtcNow, null, default, null);
        var kept = new RoutedRecord(Record(s_p1, 4), DateTime.UtcNow, null, default, null);
        tracker.Track(s_p0, 3);
        tracker.Track(s_p1, 4);

        completion.Forget([s_p0]);
        completion.OnOutputDelivered(lost, delivered: true);
        completion.OnOutputDelivered(kept, delivered: true);

        var ready = Assert.Single(completion.TakeReady());
        Assert.Equal((s_p1, 5L), (ready.TopicPartition, ready.Offset.Value));
    }

    [Fact]
    public void RecordCompletion_ReleasedThenLost_TheReleasedOffsetIsNotStored()
    {
        var tracker = new OffsetTracker();
        var completion = new RecordCompletion(tracker, new NoLifetime(), NullLogger<RecordCompletion>.Instance);
        tracker.Track(s_p0, 3);
        completion.OnOutputDelivered(new RoutedRecord(Record(s_p0, 3), DateTime.UtcNow, null, default, null), delivered: true);

        completion.Forget([s_p0]);

        Assert.Empty(completion.TakeReady());
    }

    private sealed class NoLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => throw new InvalidOperationException("A completion in these tests must never stop the application.");
    }
}
