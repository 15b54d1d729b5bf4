using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Mesh.Cli.Bench;

/// <summary>One look at the soak: how far it is, what is still owed, and each process's memory and CPU since the last look.</summary>
internal sealed record SoakSample(double ElapsedSeconds, int Sent, int Received, int Lag, IReadOnlyDictionary<string, double> RssMiB, IReadOnlyDictionary<string, double> CpuPercent);

/// <summary>
/// The soak's verdict. Memory and lag are compared between the first and the last third of the samples taken after
/// the warm-up (the first fifth of the soak): a service that leaks grows from one to the other, one that keeps up
/// ends with no more records owed than it started with.
/// </summary>
internal sealed record SoakResult(
    string Scenario, double OfferedPerSecond, double Minutes, LoadResult Load, IReadOnlyList<SoakSample> Samples,
    IReadOnlyDictionary<string, double> RssGrowthPercent, double LagEarly, double LagLate, bool Flat);

/// <summary>
/// `mesh bench --soak MINUTES`: the mesh at a steady offered load (by default half of its saturation in this run) for
/// minutes, bounded, with the memory of every process and the records still owed sampled every
/// <see cref="SampleEvery"/> and printed as it goes. It answers what a table of peaks cannot: whether memory and lag
/// stay flat once the services are warm.
/// </summary>
internal static class SoakRun
{
    public static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);

    /// <summary>Growth of a process's median resident memory, late against early, above which the soak is not flat.</summary>
    public const double RssGrowthLimitPercent = 10;

    public static SoakResult Run(BenchScenario scenario, LoadDriver driver, double rate, double minutes)
    {
        var count = (int)Math.Min(int.MaxValue - 1, rate * minutes * 60);
        var samples = new List<SoakSample>();
        var clock = Stopwatch.StartNew();
        var lastSample = TimeSpan.Zero;
        var cpuBefore = scenario.Processes.ToDictionary(p => p.Name, p => p.CpuTime());
        Console.WriteLine(Invariant($"soak: {scenario.Name} at {rate:N0} records/s offered for {minutes:0.#} min ({count:N0} records), a sample every {SampleEvery.TotalSeconds:0} s"));
        var result = driver.Run("soak", count, rate, TimeSpan.FromMinutes(minutes) + TimeSpan.FromMinutes(2), progress =>
        {
            var now = clock.Elapsed;
            if (now - lastSample < SampleEvery)
            {
                return;
            }

            var rss = scenario.Processes.ToDictionary(p => p.Name, p => Math.Round(p.RssMiB(), 1));
            var cpu = scenario.Processes.ToDictionary(p => p.Name, p =>
            {
                var used = p.CpuTime();
                var percent = (used - cpuBefore[p.Name]).TotalSeconds / (now - lastSample).TotalSeconds * 100;
                cpuBefore[p.Name] = used;
                return Math.Round(percent, 1);
            });
            lastSample = now;
            var sample = new SoakSample(Math.Round(now.TotalSeconds, 1), progress.Sent, progress.Received, progress.Sent - progress.Received, rss, cpu);
            samples.Add(sample);
            Console.WriteLine(Invariant($"  {sample.ElapsedSeconds,6:0}s  sent {sample.Sent:N0}/{count:N0}, owed {sample.Lag:N0}, RSS {string.Join(", ", rss.Select(r => $"{r.Key} {r.Value:0} MiB"))}"));
        });

        return Judge(scenario.Name, rate, minutes, result, samples);
    }

    /// <summary>The verdict on <paramref name="samples"/> (see <see cref="SoakResult"/>).</summary>
    public static SoakResult Judge(string scenario, double rate, double minutes, LoadResult load, IReadOnlyList<SoakSample> samples)
    {
        var warm = samples.Skip(samples.Count / 5).ToList();
        var third = Math.Max(1, warm.Count / 3);
        var early = warm.Take(third).ToList();
        var late = warm.Skip(warm.Count - third).ToList();
        var growth = new Dictionary<string, double>();
        foreach (var process in samples.FirstOrDefault()?.RssMiB.Keys ?? [])
        {
            var before = Median(early.Select(s => s.RssMiB[process]));
            var after = Median(late.Select(s => s.RssMiB[process]));
            growth[process] = before > 0 ? Math.Round((after - before) / before * 100, 1) : 0;
        }

        var lagEarly = Median(early.Select(s => (double)s.Lag));
        var lagLate = Median(late.Select(s => (double)s.Lag));
        // Records owed at a steady rate are what is in flight; a soak that falls behind owes more and more. A second of
        // records is the slack: the owed count of one sample moves by what the pipeline holds at that instant.
        var keptUp = lagLate <= lagEarly + rate && load.Received == load.Sent;
        var flat = warm.Count >= 3 && keptUp && growth.Values.All(g => g <= RssGrowthLimitPercent);
        return new SoakResult(scenario, rate, minutes, load, samples, growth, lagEarly, lagLate, flat);
    }

    public static string Markdown(SoakResult soak)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Soak: {soak.Scenario} at {soak.OfferedPerSecond:N0} records/s offered for {soak.Minutes:0.#} min; {soak.Load.Received:N0} of {soak.Load.Sent:N0} predicted, p50 {soak.Load.P50Ms:F1} ms, p99 {soak.Load.P99Ms:F1} ms, max {soak.Load.MaxMs:F1} ms."));
        text.AppendLine(Invariant($"Verdict: {(soak.Flat ? "flat" : "NOT flat")} after the warm-up (the first fifth): resident memory, late against early, {string.Join(", ", soak.RssGrowthPercent.Select(g => $"{g.Key} {g.Value:+0.0;-0.0;0.0} %"))} (limit +{RssGrowthLimitPercent:0} %); records owed {soak.LagEarly:N0} early, {soak.LagLate:N0} late."));
        text.AppendLine();
        var processes = soak.Samples.FirstOrDefault()?.RssMiB.Keys.ToList() ?? [];
        text.AppendLine("| minute | sent | owed | " + string.Join(" | ", processes.Select(p => $"{p} RSS MiB | {p} CPU %")) + " |");
        text.AppendLine("|---|---|---|" + string.Concat(processes.Select(_ => "---|---|")));
        // One row a minute (the last sample of each), so a long soak stays a short table; the JSON has every sample.
        foreach (var row in soak.Samples.GroupBy(s => (int)(s.ElapsedSeconds / 60)).Select(g => g.Last()))
        {
            text.AppendLine(Invariant($"| {row.ElapsedSeconds / 60:F1} | {row.Sent:N0} | {row.Lag:N0} | ") +
                string.Join(" | ", processes.Select(p => Invariant($"{row.RssMiB[p]:F0} | {row.CpuPercent[p]:F0}"))) + " |");
        }

        return text.ToString();
    }

    // No sample (a soak shorter than one sample interval) owes nothing and grew nothing.
    private static double Median(IEnumerable<double> values) => BenchReportFormatter.Median(values) is var median && double.IsNaN(median) ? 0 : median;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
