namespace Mesh.Kafka.Tests;

/// <summary>The one backoff the produce retry and the router's model-host retries share.</summary>
public sealed class BackoffTests
{
    private static readonly TimeSpan s_millisecond = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Exceeded_ClockMovesBeforeAndAfterTheFirstRefusal_CountsOnlyTheTimeSinceTheFirstRefusal()
    {
        var clock = new ManualTimeProvider();
        var backoff = new Backoff(s_millisecond, s_millisecond, TimeSpan.FromSeconds(10), clock);
        clock.Advance(TimeSpan.FromHours(1));

        Assert.False(backoff.Started);
        Assert.False(backoff.Exceeded());
        Assert.True(backoff.Started);
        clock.Advance(TimeSpan.FromSeconds(9.999));
        Assert.False(backoff.Exceeded());
        clock.Advance(s_millisecond);
        Assert.True(backoff.Exceeded());
    }

    [Fact]
    public void Exceeded_ZeroBound_TrueAtTheFirstRefusal()
    {
        var backoff = new Backoff(s_millisecond, s_millisecond, TimeSpan.Zero, new ManualTimeProvider());

        Assert.True(backoff.Exceeded());
    }

    [Fact]
    public async Task NextWait_AfterEachWait_DoublesUpToTheLongest()
    {
        var backoff = new Backoff(s_millisecond, TimeSpan.FromMilliseconds(4), TimeSpan.FromMinutes(1));
        var waits = new List<double>();

        for (var i = 0; i < 3; i++)
        {
            waits.Add(backoff.NextWait.TotalMilliseconds);
            await backoff.WaitAsync();
        }

        waits.Add(backoff.NextWait.TotalMilliseconds);
        backoff.Wait(CancellationToken.None);
        waits.Add(backoff.NextWait.TotalMilliseconds);
        Assert.Equal([1, 2, 4, 4, 4], waits);
    }

    [Fact]
    public async Task WaitAsync_Cancelled_ThrowsOperationCanceled()
    {
        using var cancel = new CancellationTokenSource();
        var backoff = new Backoff(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1));
        var waiting = backoff.WaitAsync(cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Wait_CancelledToken_ThrowsOperationCanceled(bool ownClock)
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var backoff = new Backoff(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), ownClock ? new ManualTimeProvider() : null);

        Assert.ThrowsAny<OperationCanceledException>(() => backoff.Wait(cancel.Token));
    }

    [Fact]
    public void Constructor_LongestShorterThanFirst_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));
    }
}
