namespace Mesh.Kafka.Tests;

public sealed class RecentKeyWindowTests
{
    [Fact]
    public void TryAdd_SameKeyTwice_SecondIsRefused()
    {
        var window = new RecentKeyWindow(10, TimeSpan.Zero, new Ticks());

        Assert.True(window.TryAdd("a"));
        Assert.False(window.TryAdd("a"));
        Assert.Equal(1, window.Count);
    }

    [Fact]
    public void TryAdd_PastCapacity_ForgetsTheOldestOnly()
    {
        var window = new RecentKeyWindow(3, TimeSpan.Zero, new Ticks());
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            window.TryAdd(key);
        }

        Assert.False(window.Contains("a"));
        Assert.True(window.Contains("b"));
        Assert.True(window.Contains("d"));
        Assert.Equal(3, window.Count);
    }

    [Fact]
    public void Contains_OlderThanMaxAge_IsForgotten()
    {
        var clock = new Ticks();
        var window = new RecentKeyWindow(10, TimeSpan.FromMinutes(5), clock);
        window.TryAdd("old");
        clock.Advance(TimeSpan.FromMinutes(3));
        window.TryAdd("new");
        clock.Advance(TimeSpan.FromMinutes(3));

        Assert.False(window.Contains("old"));
        Assert.True(window.Contains("new"));
    }

    [Fact]
    public void Remove_ThenAddedAgain_TheStaleSlotsEvictionKeepsTheNewAdd()
    {
        var window = new RecentKeyWindow(2, TimeSpan.Zero, new Ticks());
        window.TryAdd("a");
        Assert.True(window.Remove("a"));
        Assert.True(window.TryAdd("a"));

        // The ring is full of "a"'s old and new slots: the next add evicts the old slot, which must not forget "a".
        window.TryAdd("b");

        Assert.True(window.Contains("a"));
        Assert.True(window.Contains("b"));
    }

    /// <summary>A monotonic clock the test moves by hand.</summary>
    private sealed class Ticks : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
