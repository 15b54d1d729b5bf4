namespace Mesh.Cli.Tests;

public sealed class ReplayProgressBarTests
{
    [Fact]
    public void Draw_WithinAQuarterSecond_RedrawsOnlyWhenForced()
    {
        var time = new ManualTime();
        var terminal = new StringWriter();
        var bar = new ReplayProgressBar(terminal, total: 4, time);

        bar.Draw(1, 0, 0);
        time.Advance(TimeSpan.FromMilliseconds(100));
        bar.Draw(2, 1, 0);
        time.Advance(TimeSpan.FromMilliseconds(200));
        bar.Draw(3, 2, 0);
        bar.Finish(4, 3, 1);

        var frames = terminal.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, frames.Length);
        Assert.Contains("sent 1/4", frames[0], StringComparison.Ordinal);
        Assert.Contains("sent 3/4", frames[1], StringComparison.Ordinal);
        Assert.Contains("100%", frames[2], StringComparison.Ordinal);
        Assert.Contains("failed 1", frames[2], StringComparison.Ordinal);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
