using System.Globalization;
using System.Text;

namespace Mesh.Cli.Bench;

/// <summary>The benchmark's Markdown: medians with their spread over runs, and each scenario's ratio to the fused baseline.</summary>
internal static class BenchReportFormatter
{
    public static string Markdown(BenchReport report)
    {
        var fused = report.Scenarios.FirstOrDefault(s => s.Name == "fused");
        var fusedRate = fused is null ? double.NaN : Median(fused.Runs.Select(r => r.Saturation.RecordsPerSecond));
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Machine: {report.Machine}; broker: {report.Broker}; {report.Date:yyyy-MM-dd HH:mm} UTC."));
        text.AppendLine(Invariant($"Load average before the run {report.LoadBefore}; after it {report.LoadAfter} (the benchmark's own work included)."));
        if (report.SchemaRegistry is not null)
        {
            text.AppendLine(Invariant($"Schema registry of the framed scenarios: {report.SchemaRegistry}."));
        }
        if (report.Busy)
        {
            text.AppendLine();
            text.AppendLine("> **The machine was busy when this run started** (1-minute load above half the cores): other work shared the cores, so the figures are low and spread wide. Re-run on a quiet machine before comparing.");
        }

        text.AppendLine();
        text.AppendLine("| scenario | wire format | records/s at saturation (median, min–max) | vs fused | p50 / p99 ms at saturation | CPU s per 1,000 records: all (by process) | peak RSS MiB |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var scenario in report.Scenarios)
        {
            var rates = scenario.Runs.Select(r => r.Saturation.RecordsPerSecond).ToList();
            var rate = Median(rates);
            var rss = string.Join(", ", scenario.PeakRssMiB.Select(p => Invariant($"{p.Key} {p.Value:F0}")));
            var byProcess = string.Join(", ", scenario.Runs[0].CpuSecondsPer1000ByProcess.Keys
                .Select(k => Invariant($"{k} {Median(scenario.Runs.Select(r => r.CpuSecondsPer1000ByProcess[k])):F3}")));
            var saturationLatency = Invariant($"{Median(scenario.Runs.Select(r => r.Saturation.P50Ms)):F1} / {Median(scenario.Runs.Select(r => r.Saturation.P99Ms)):F1}");
            text.AppendLine(Invariant(
                $"| {scenario.Name} | {WireFormat(scenario.WireFormat)} | {rate:N0} ({rates.Min():N0}–{rates.Max():N0}) | {(double.IsNaN(fusedRate) ? "" : (rate / fusedRate).ToString("P0", CultureInfo.InvariantCulture))} | {saturationLatency} | {Median(scenario.Runs.Select(r => r.CpuSecondsPer1000)):F3} ({byProcess}) | {rss} |"));
        }

        var batchSizes = report.Scenarios.Where(s => s.Runs.Any(r => r.RouterBatchSize is not null))
            .Select(s => Invariant($"{s.Name} {Median(s.Runs.Where(r => r.RouterBatchSize is not null).Select(r => r.RouterBatchSize!.Value)):F1}")).ToList();
        if (batchSizes.Count > 0)
        {
            text.AppendLine();
            text.AppendLine($"Records per ModelInfer call from the router at saturation (mean over the run, median over runs): {string.Join("; ", batchSizes)}.");
        }

        AppendSpeed(text, report);

        text.AppendLine();
        text.AppendLine("End-to-end latency (event time to the prediction read back by the benchmark), median over runs:");
        text.AppendLine();
        text.AppendLine("| scenario | offered records/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | p99 vs fused |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var scenario in report.Scenarios)
        {
            foreach (var group in scenario.Runs.SelectMany(r => r.Loads).GroupBy(l => l.HalfOfSaturation ? -1 : l.Offered).OrderBy(g => g.Key == -1 ? double.MaxValue : g.Key))
            {
                var p99 = Median(group.Select(l => l.Result.P99Ms));
                var fusedP99 = fused is null ? double.NaN
                    : Median(fused.Runs.SelectMany(r => r.Loads).Where(l => (l.HalfOfSaturation ? -1 : l.Offered) == group.Key && group.Key != -1).Select(l => l.Result.P99Ms));
                var label = group.Key == -1
                    ? Invariant($"{Median(group.Select(l => l.Offered)):N0} (50% of saturation)")
                    : group.Key.ToString("N0", CultureInfo.InvariantCulture);
                var ratio = double.IsNaN(fusedP99) ? "" : (p99 / fusedP99).ToString("F1", CultureInfo.InvariantCulture) + "×";
                text.AppendLine(Invariant(
                    $"| {scenario.Name} | {label} | {Median(group.Select(l => l.Result.P50Ms)):F2} | {Median(group.Select(l => l.Result.P95Ms)):F2} | {p99:F2} | {Median(group.Select(l => l.Result.P999Ms)):F2} | {group.Max(l => l.Result.MaxMs):F2} | {ratio} |"));
            }
        }

        return text.ToString();
    }

    /// <summary>A run's probe slower than the fastest run's by more than this, and the report says the machine's speed changed.</summary>
    internal const double SpeedSpreadWarning = 1.25;

    /// <summary>
    /// Each saturation run beside the machine's speed during it (<see cref="SpeedProbe"/>): on a shared host the same
    /// scenario's runs differ as much as its speed did, and this is the table that shows it.
    /// </summary>
    private static void AppendSpeed(StringBuilder text, BenchReport report)
    {
        var runs = report.Scenarios.SelectMany(s => s.Runs.Where(r => r.Speed is { Units: > 0 }).Select(r => (Scenario: s.Name, Run: r, Speed: r.Speed!))).ToList();
        if (runs.Count == 0)
        {
            return;
        }

        var fastest = runs.Min(r => r.Speed.MedianMicroseconds);
        var slowest = runs.Max(r => r.Speed.MedianMicroseconds);
        text.AppendLine();
        if (slowest > fastest * SpeedSpreadWarning)
        {
            text.AppendLine(Invariant($"> **The machine's speed changed during the benchmark**: the speed probe's fixed unit of arithmetic took {fastest:N0}–{slowest:N0} µs of CPU from one run to another ({slowest / fastest:F1}×), which the load average does not show (a host running other guests on these cores). Compare runs of similar speed, or the medians over many runs."));
            text.AppendLine();
        }

        text.AppendLine("Each saturation run and the machine's speed during it (the speed probe: a fixed unit of single-threaded arithmetic four times a second, in the thread's own CPU time; 100 % is the fastest run of this benchmark):");
        text.AppendLine();
        text.AppendLine("| scenario | run | records/s at saturation | CPU s per 1,000 records | probe µs per unit (median / p90) | machine speed |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var (scenario, run, speed) in runs)
        {
            text.AppendLine(Invariant(
                $"| {scenario} | {run.Run} | {run.Saturation.RecordsPerSecond:N0} | {run.CpuSecondsPer1000:F3} | {speed.MedianMicroseconds:N0} / {speed.P90Microseconds:N0} | {fastest / speed.MedianMicroseconds:P0} |"));
        }
    }

    /// <summary>The heading of the section of <c>docs/benchmarks.md</c> this command owns; the other sections are kept.</summary>
    public const string SectionHeading = "## The mesh against the fused baseline";

    /// <summary><paramref name="existing"/> (or a new page) with this run's section in place of the last one.</summary>
    public static string Document(BenchReport report, string table, string? existing)
    {
        var section = $"""
            {SectionHeading}

            The latest run of `./build.sh --target=Bench` (`mesh bench`). It runs everything on this machine through the
            embedded broker (or `KAFKA_BOOTSTRAP_SERVERS`): the fused baseline (one process: consume, ONNX Runtime
            in-process on batches, produce — the physical limit of Kafka plus the model here), the mesh (router and
            model host as their own processes, an A/B experiment over two models plus one shadow), the same mesh framed
            (`mesh-framed`: `Kafka:SchemaRegistry:Url` set, every topic's values in Confluent's protobuf wire format, the
            load driver writing framed features and reading framed predictions; the registry is `--schema-registry`, by
            default a stand-in in the benchmark's process), and the mesh with one gRPC call
            per record (the talk's per-message consumer). The runs alternate between scenarios, so load from elsewhere
            falls on all of them alike, and only the scenario measured runs: each run starts its processes on topics of
            its own, warms them flat out for 15 s (8 s with `--quick`; the JIT's recompilation of a fresh process
            included) and stops them after. Latency runs from a
            record's event time to the moment the benchmark reads its prediction back, on one clock. CPU counts every
            process of the scenario, the broker and the load driver included ("bench" is the benchmark's own process:
            the embedded broker, the load driver and, for the fused scenario, the pipeline). Shapes, not promises: one
            machine, a few runs.

            Command: `{report.Command}`

            {table}
            """;
        return MarkdownSections.Replace(existing ?? "# Benchmarks\n", SectionHeading, section);
    }

    private static string WireFormat(string name) => name == BenchWireFormat.ConfluentName ? "Confluent (magic byte, schema id, message index)" : "plain protobuf";

    /// <summary>The median of the values that are numbers (the mean of the middle two for an even count), NaN for none.</summary>
    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
