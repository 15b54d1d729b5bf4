namespace Mesh.Kafka.Tests;

public sealed class OffsetTrackerTests
{
    private static readonly TopicPartition s_p0 = new("t", 0);
    private static readonly TopicPartition s_p1 = new("t", 1);

    [Fact]
    public void Complete_OutOfOrder_ReleasesOnlyContiguousPrefix()
    {
        var tracker = new OffsetTracker();
        foreach (var offset in new long[] { 10, 11, 12, 13 })
        {
            tracker.Track(s_p0, offset);
        }

        Assert.Null(tracker.Complete(s_p0, 12));
        Assert.Null(tracker.Complete(s_p0, 11));
        Assert.Equal(13, tracker.Complete(s_p0, 10));
        Assert.Equal(14, tracker.Complete(s_p0, 13));
        Assert.Equal(0, tracker.PendingCount);
    }

    [Fact]
    public void Complete_PartitionsAreIndependent()
    {
        var tracker = new OffsetTracker();
        tracker.Track(s_p0, 0);
        tracker.Track(s_p1, 0);
        tracker.Track(s_p1, 1);

        Assert.Equal(1, tracker.Complete(s_p1, 0));
        Assert.Equal(1, tracker.Complete(s_p0, 0));
        Assert.Equal(1, tracker.PendingCount);
    }

    [Fact]
    public void Complete_AfterForget_ReleasesNothing()
    {
        var tracker = new OffsetTracker();
        tracker.Track(s_p0, 5);
        tracker.Forget([s_p0]);

        Assert.Null(tracker.Complete(s_p0, 5));
        Assert.Equal(0, tracker.PendingCount);
    }
}
