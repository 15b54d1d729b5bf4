namespace Mesh.Producer.Tests;

public sealed class ProgressBarTests
{
    [Fact]
    public void Draw_HalfwayByCount_ShowsHalfABarCountsAndTheAchievedRate()
    {
        var terminal = new StringWriter();
        var bar = new ProgressBar(terminal, target: 1000, durationSeconds: 0);
        var progress = new PublishProgress();

        bar.Draw(progress, 100, TimeSpan.Zero);
        for (var i = 0; i < 500; i++)
        {
            progress.RecordSent();
            progress.RecordAcked();
        }

        bar.Draw(progress, 100, TimeSpan.FromSeconds(5));

        var last = terminal.ToString().Split('\r').Last();
        Assert.StartsWith("[" + new string('#', 15) + new string('-', 15) + "]", last, StringComparison.Ordinal);
        Assert.Contains("sent 500  acked 500  failed 0", last, StringComparison.Ordinal);
        Assert.Contains("100/s (target 100/s)", last, StringComparison.Ordinal);
    }

    [Fact]
    public void Finish_Summary_ShowsSentAcknowledgedFailedAndOutcome()
    {
        var terminal = new StringWriter();
        var bar = new ProgressBar(terminal, 10, 0);

        bar.Finish(new PublishSummary(10, 9, 1, 9, 9, 0, 2, false, TimeSpan.FromSeconds(2)));

        var text = terminal.ToString();
        Assert.Matches(@"records\s+10\s+9\s+1", text);
        Assert.Contains("bad rows skipped 2", text, StringComparison.Ordinal);
        Assert.Contains("achieved 4.5 records/s; INCOMPLETE", text, StringComparison.Ordinal);
    }
}
