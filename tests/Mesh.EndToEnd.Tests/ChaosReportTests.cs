namespace Mesh.EndToEnd.Tests;

/// <summary>What the chaos report says about its longest time without predictions: when, and which kill came before.</summary>
public sealed class ChaosReportTests
{
    private static readonly DateTime s_start = new(2026, 12, 2, 3, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Longest_ThreeGaps_PicksTheLongestWithItsStart()
    {
        var times = new List<DateTime> { At(10), At(2), At(3), At(25), At(11) };

        var gap = PredictionGap.Longest(times);

        Assert.Equal(At(11), gap.Start);
        Assert.Equal(TimeSpan.FromSeconds(14), gap.Length);
    }

    [Fact]
    public void Print_GapAfterARouterKill_NamesItsStartAndTheKillBeforeAndTheKillsDuring()
    {
        var kills = new List<ChaosKill> { new(At(18), "router-a"), new(At(46.1), "router-b"), new(At(52), "model-host"), new(At(80), "router-a") };
        var gap = new PredictionGap(At(46), TimeSpan.FromSeconds(20.8));
        var report = new ChaosReport(
            10,
            new TopicAuditResult(10, 10, 10, 0, 0, 0, gap),
            summary: null,
            new Dictionary<string, int> { ["router-a"] = 2, ["router-b"] = 1, ["model-host"] = 1 },
            new ChaosTimeline(s_start, kills),
            TimeSpan.FromSeconds(100));
        using var output = new StringWriter();

        report.Print(output);

        var text = output.ToString();
        Assert.Matches(@"\| longest time without predictions\s+\|\s+20\.8 s \|", text);
        Assert.Matches(@"\| longest gap: from / to \(seconds into the run\)\s+\|\s+46\.0 s / 66\.8 s \|", text);
        // Stamped 0.1 s after the victim's last prediction, the kill that opened the gap is still the one before it.
        Assert.Matches(@"\| longest gap: the kill just before it\s+\|\s+router-b at 46\.1 s \|", text);
        Assert.Matches(@"\| longest gap: kills while it lasted\s+\|\s+model-host at 52\.0 s \|", text);
    }

    [Fact]
    public void Print_GapBeforeAnyKill_SaysNone()
    {
        var report = new ChaosReport(
            10,
            new TopicAuditResult(10, 10, 10, 0, 0, 0, new PredictionGap(At(5), TimeSpan.FromSeconds(2))),
            summary: null,
            new Dictionary<string, int>(),
            new ChaosTimeline(s_start, [new ChaosKill(At(30), "router-a")]),
            TimeSpan.FromSeconds(40));
        using var output = new StringWriter();

        report.Print(output);

        Assert.Matches(@"\| longest gap: the kill just before it\s+\|\s+none \|", output.ToString());
        Assert.Matches(@"\| longest gap: kills while it lasted\s+\|\s+none \|", output.ToString());
    }

    [Fact]
    public void Print_GapsAfterKillsOfEachService_NamesTheLongestPerServiceAndNoneWhereNoGapFollowed()
    {
        var kills = new List<ChaosKill> { new(At(19.9), "router-a"), new(At(40), "metrics-sink"), new(At(52), "model-host"), new(At(59.9), "model-host") };
        var gaps = new List<PredictionGap>
        {
            new(At(20), TimeSpan.FromSeconds(3)),
            new(At(52.1), TimeSpan.FromSeconds(2.1)),
            new(At(60), TimeSpan.FromSeconds(1)),
        };
        var report = new ChaosReport(
            10,
            new TopicAuditResult(10, 10, 10, 0, 0, 0, gaps[0], gaps),
            summary: null,
            new Dictionary<string, int>(),
            new ChaosTimeline(s_start, kills),
            TimeSpan.FromSeconds(80));
        using var output = new StringWriter();

        report.Print(output);

        var text = output.ToString();
        Assert.Matches(@"\| longest gap after a model-host kill\s+\|\s+2\.1 s \(kill at 52\.0 s\) \|", text);
        Assert.Matches(@"\| longest gap after a router-a kill\s+\|\s+3\.0 s \(kill at 19\.9 s\) \|", text);
        Assert.Matches(@"\| longest gap after a metrics-sink kill\s+\|\s+none over 0\.5 s \|", text);
    }

    private static DateTime At(double seconds) => s_start.AddSeconds(seconds);
}
