namespace Mesh.Cli.Tests;

/// <summary>
/// The soak's verdict: flat when, after the warm-up, every process's memory and the records owed stay where they were;
/// a leak or a mesh falling behind is named, whatever the warm-up did.
/// </summary>
public sealed class SoakVerdictTests
{
    private const double Rate = 1_000;

    [Fact]
    public void Judge_MemoryGrowsOnlyDuringTheWarmUp_Flat()
    {
        // The router grows from 100 to 150 MiB in the first two samples, inside the warm-up (the first fifth), then holds.
        var samples = Samples(20, i => i < 2 ? 100 + 25 * i : 150, _ => 200);

        var soak = SoakRun.Judge("mesh", Rate, 3.3, Load(200_000, 200_000), samples);

        Assert.True(soak.Flat);
        Assert.Equal(0, soak.RssGrowthPercent["router"]);
        Assert.Contains("Verdict: flat", SoakRun.Markdown(soak), StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_MemoryKeepsGrowingAfterTheWarmUp_NotFlatAndTheGrowthIsNamed()
    {
        // 2 MiB more every sample: from about 110 MiB early to about 140 MiB late, over the 10 % limit.
        var samples = Samples(20, i => 100 + 2 * i, _ => 200);

        var soak = SoakRun.Judge("mesh", Rate, 3.3, Load(200_000, 200_000), samples);

        Assert.False(soak.Flat);
        Assert.True(soak.RssGrowthPercent["router"] > SoakRun.RssGrowthLimitPercent, $"growth {soak.RssGrowthPercent["router"]} %");
        Assert.Contains("NOT flat", SoakRun.Markdown(soak), StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_RecordsOwedKeepGrowing_NotFlat()
    {
        // Memory flat, but the mesh falls behind the offered load by 500 records a sample.
        var samples = Samples(20, _ => 150, i => 200 + 500 * i);

        var soak = SoakRun.Judge("mesh", Rate, 3.3, Load(200_000, 200_000), samples);

        Assert.False(soak.Flat);
        Assert.True(soak.LagLate > soak.LagEarly + Rate);
    }

    [Fact]
    public void Judge_RecordsNeverPredicted_NotFlat()
    {
        var soak = SoakRun.Judge("mesh", Rate, 3.3, Load(200_000, 199_990), Samples(20, _ => 150, _ => 200));

        Assert.False(soak.Flat);
    }

    [Fact]
    public void Markdown_SamplesEveryTenSeconds_OneRowAMinute()
    {
        var soak = SoakRun.Judge("mesh", Rate, 3.3, Load(200_000, 200_000), Samples(20, _ => 150, _ => 200));

        var rows = SoakRun.Markdown(soak).Split('\n').Count(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| minute", StringComparison.Ordinal));

        // Samples at 10 s to 200 s fall in minutes 0 to 3.
        Assert.Equal(4, rows);
    }

    private static List<SoakSample> Samples(int count, Func<int, double> routerRss, Func<int, int> lag) =>
        [.. Enumerable.Range(0, count).Select(i => new SoakSample(
            (i + 1) * 10, (i + 1) * 10_000, (i + 1) * 10_000 - lag(i), lag(i),
            new Dictionary<string, double> { ["router"] = routerRss(i), ["model-host"] = 140 },
            new Dictionary<string, double> { ["router"] = 30, ["model-host"] = 10 }))];

    private static LoadResult Load(int sent, int received) => new(sent, received, 0, Rate, 200, 2, 3, 4, 5, 9);
}
