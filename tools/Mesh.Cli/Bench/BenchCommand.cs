using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Mesh.EmbeddedBroker;

namespace Mesh.Cli.Bench;

internal sealed record BenchSettings(
    int Records,
    int PerMessageRecords,
    int Runs,
    IReadOnlyList<double> Loads,
    double LoadSeconds,
    IReadOnlyList<string> Scenarios,
    string Configuration,
    string Output,
    string? DocsFile,
    double SoakMinutes = 0,
    double? SoakRate = null,
    double WarmUpSeconds = 15,
    string SchemaRegistry = BenchSchemaRegistry.Local);

/// <summary>
/// `mesh bench`: the whole mesh against its physical limit, in one run. For each scenario (the fused
/// in-process baseline, the mesh, the mesh framed in Confluent's wire format through a schema registry, the mesh with
/// one gRPC call per record): records/s at saturation, latency
/// percentiles at fixed offered loads, CPU seconds per 1,000 records and peak memory, over several runs that
/// alternate between the scenarios.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static async Task<int> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Scenarios.FirstOrDefault(s => !s_scenarios.Contains(s)) is { } unknown)
        {
            Console.Error.WriteLine($"error: --scenario: unknown scenario '{unknown}' ({string.Join(", ", s_scenarios)}).");
            return 78;
        }

        var (registryOptions, registryProblem) = BenchSchemaRegistry.Settings(settings.SchemaRegistry);
        if (registryProblem is not null)
        {
            Console.Error.WriteLine($"error: {registryProblem}");
            return 78;
        }

        var root = RepositoryRoot.Find();
        var work = Directory.CreateTempSubdirectory("mesh-bench-").FullName;
        var models = Path.Combine(work, "models");
        DemoModelTrainer.Train(Path.Combine(root, "data", "iris.csv"), models, TextWriter.Null);

        var external = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS");
        using var broker = string.IsNullOrWhiteSpace(external) ? EmbeddedKafkaBroker.Start() : null;
        var bootstrap = broker?.BootstrapServers ?? external!;
        var context = new BenchContext(bootstrap, root, settings.Configuration, models, work);
        await using var registry = settings.Scenarios.Any(IsFramed) ? await BenchSchemaRegistry.StartAsync(settings.SchemaRegistry, registryOptions!).ConfigureAwait(false) : null;
        if (registry is not null)
        {
            Console.WriteLine($"mesh bench: schema registry of the framed scenarios: {registry.Description}");
        }

        Console.WriteLine($"mesh bench: {(broker is null ? "Kafka cluster " + bootstrap : "embedded broker " + bootstrap)}, {Environment.ProcessorCount} cores, {settings.Runs} run(s) per scenario");

        // The runs alternate between the scenarios (run 1 of each, then run 2 of each...), so load from elsewhere on a
        // shared machine falls on every scenario alike instead of on whichever happened to run during it. Only the
        // scenario measured runs: each run starts its processes on topics of its own, warms them and stops them after.
        // An idle scenario is not free against the embedded broker: its consumers ask for records every millisecond
        // (the broker holds an empty fetch for the whole wait), which cost a third of a core each and took it from the
        // scenario measured when every scenario stayed up for the whole benchmark.
        var loadBefore = MachineInfo.LoadAverage();
        var busyBefore = MachineInfo.IsBusy();
        if (busyBefore)
        {
            Console.WriteLine($"warning: the machine is busy before the run (load {loadBefore} on {Environment.ProcessorCount} cores); figures will be low and spread wide.");
        }

        var scenarios = settings.Scenarios.Select(name => (Name: name, Records: name == "mesh-per-message" ? settings.PerMessageRecords : settings.Records, Runs: new List<RunResult>(), Rss: new Dictionary<string, double>(), Description: "", WireFormat: BenchWireFormat.PlainName)).ToList();
        var results = new List<ScenarioResult>();
        SoakResult? soak = null;
        try
        {
            var timeout = TimeSpan.FromSeconds(120);
            for (var run = 1; run <= settings.Runs; run++)
            {
                for (var i = 0; i < scenarios.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var (name, records, runs, rss, _, _) = scenarios[i];
                    var scenario = Create(name, registry);
                    try
                    {
                        scenarios[i] = scenarios[i] with { Description = scenario.Description, WireFormat = scenario.WireFormat.Name };
                        Console.WriteLine($"\n== run {run} of {settings.Runs}: {scenario.Name} ({scenario.Description})");
                        using (var driver = await StartWarmedAsync(scenario, context, broker, Math.Min(records, 5_000), settings, timeout, cancellationToken).ConfigureAwait(false))
                        {
                            runs.Add(await MeasureRunAsync(scenario, driver, run, records, settings, timeout).ConfigureAwait(false));
                        }

                        foreach (var process in scenario.Processes)
                        {
                            rss[process.Name] = Math.Max(rss.GetValueOrDefault(process.Name), Math.Round(process.PeakRssMiB(), 1));
                        }
                    }
                    finally
                    {
                        await scenario.DisposeAsync().ConfigureAwait(false);
                    }

                    await DeleteTopicsAsync(broker, bootstrap, scenario.Topics).ConfigureAwait(false);
                }
            }

            if (settings.SoakMinutes > 0)
            {
                soak = await SoakAsync(settings, context, broker, scenarios.Where(s => s.Name == "mesh").SelectMany(s => s.Runs).ToList(), cancellationToken).ConfigureAwait(false);
            }

            foreach (var (name, records, runs, rss, description, wireFormat) in scenarios)
            {
                rss["bench (broker, driver" + (name == "fused" ? ", fused pipeline)" : ")")] = Math.Round(ServiceProcess.ReadPeakRssMiB(Environment.ProcessId), 1);
                results.Add(new ScenarioResult(name, description, records, runs, rss, wireFormat));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        // The load after includes the benchmark's own work; only the load before says whether others were busy.
        var loadAfter = MachineInfo.LoadAverage();
        var report = new BenchReport(DateTimeOffset.UtcNow, MachineInfo.Describe(), broker is null ? "kafka" : "embedded", Environment.CommandLine,
            loadBefore, loadAfter, busyBefore, results, soak, registry?.Description);
        Directory.CreateDirectory(settings.Output);
        var json = Path.Combine(settings.Output, "bench.json");
        var markdown = Path.Combine(settings.Output, "bench.md");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, s_json), cancellationToken).ConfigureAwait(false);
        var table = BenchReportFormatter.Markdown(report) + (soak is null ? "" : Environment.NewLine + SoakRun.Markdown(soak));
        await File.WriteAllTextAsync(markdown, table, cancellationToken).ConfigureAwait(false);
        if (settings.DocsFile is not null)
        {
            var existing = File.Exists(settings.DocsFile) ? await File.ReadAllTextAsync(settings.DocsFile, cancellationToken).ConfigureAwait(false) : null;
            await File.WriteAllTextAsync(settings.DocsFile, BenchReportFormatter.Document(report, table, existing), cancellationToken).ConfigureAwait(false);
        }

        Console.WriteLine();
        Console.WriteLine(table);
        Console.WriteLine($"Written: {json}, {markdown}{(settings.DocsFile is null ? "" : ", " + settings.DocsFile)}");
        // A framed scenario whose predictions came back plain (or the reverse) measured the other wire format.
        var misframed = results.Where(r => r.Runs.SelectMany(run => run.Loads.Select(l => l.Result).Prepend(run.Saturation))
            .Any(l => l.Framed != (r.WireFormat == BenchWireFormat.PlainName ? 0 : l.Received))).Select(r => r.Name).ToList();
        if (misframed.Count > 0)
        {
            Console.Error.WriteLine($"error: {string.Join(", ", misframed)}: some predictions were not in the scenario's wire format (see 'framed' in the JSON).");
            return 1;
        }

        var incomplete = results.SelectMany(r => r.Runs).Any(r => r.Saturation.Received < r.Saturation.Sent || r.Loads.Any(l => l.Result.Received < l.Result.Sent))
            || soak is { Load: var soaked } && soaked.Received < soaked.Sent;
        if (incomplete)
        {
            Console.Error.WriteLine("error: some records sent were never read back as predictions (see 'received' in the JSON).");
            return 1;
        }

        return 0;
    }

    /// <summary>Creates the scenario's topics, starts its processes and warms them: the driver that then measures them.</summary>
    private static async Task<LoadDriver> StartWarmedAsync(BenchScenario scenario, BenchContext context, EmbeddedKafkaBroker? broker, int warmUpRecords, BenchSettings settings, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await CreateTopicsAsync(broker, context.BootstrapServers, scenario.Topics).ConfigureAwait(false);
        await scenario.StartAsync(context, cancellationToken).ConfigureAwait(false);
        var driver = new LoadDriver(context.BootstrapServers, scenario.Topics, scenario.WireFormat);
        try
        {
            WarmUp(driver, warmUpRecords, TimeSpan.FromSeconds(settings.WarmUpSeconds), timeout);
            return driver;
        }
        catch
        {
            driver.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Flat out in rounds of <paramref name="records"/> until <paramref name="time"/> has passed (one round at least), then
    /// half a second at 1,000 records/s, so both of the driver's producers are started before anything is measured.
    /// A count alone did not warm a fresh process: profiles of the router 5 to 13 s after its start still found a fifth
    /// of its CPU in the JIT's tiered recompilation, which a steady-state figure must not include.
    /// </summary>
    private static void WarmUp(LoadDriver driver, int records, TimeSpan time, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        do
        {
            driver.Run($"warmup{rounds++}", records, 0, timeout);
        }
        while (clock.Elapsed < time);

        // The paced runs send through a producer of their own (no linger): started here, not in the first latency run.
        driver.Run("warmup-paced", 500, 1_000, timeout);

        Console.WriteLine($"  warm-up: {rounds} round(s) of {records:N0} records, {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>The soak on a fresh mesh, at the rate asked for or half of the mesh's median saturation in this run.</summary>
    private static async Task<SoakResult> SoakAsync(BenchSettings settings, BenchContext context, EmbeddedKafkaBroker? broker, IReadOnlyList<RunResult> meshRuns, CancellationToken cancellationToken)
    {
        var rate = settings.SoakRate ?? (meshRuns.Count > 0
            ? Math.Round(BenchReportFormatter.Median(meshRuns.Select(r => r.Saturation.RecordsPerSecond)) * 0.5)
            : 5_000);
        await using var scenario = Create("mesh", null);
        Console.WriteLine($"\n== soak: {scenario.Name} ({scenario.Description})");
        using var driver = await StartWarmedAsync(scenario, context, broker, 5_000, settings, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        var soak = SoakRun.Run(scenario, driver, rate, settings.SoakMinutes);
        Console.WriteLine(soak.Flat ? "soak: flat after the warm-up." : "soak: NOT flat after the warm-up (see the table).");
        return soak;
    }

    private static async Task<RunResult> MeasureRunAsync(BenchScenario scenario, LoadDriver driver, int run, int records, BenchSettings settings, TimeSpan timeout)
    {
        var router = scenario.Processes.FirstOrDefault(p => p.Name == "router")?.Url;
        var batchesBefore = router is null ? null : await BatchSizeProbe.ReadAsync(router).ConfigureAwait(false);
        var cpuBefore = CpuNow(scenario);
        SpeedSample speed;
        LoadResult saturation;
        using (var probe = SpeedProbe.Start())
        {
            saturation = driver.Run($"r{run}sat", records, 0, timeout, p => Console.WriteLine($"  saturation: {p}"));
            speed = probe.Stop();
        }

        var cpuAfter = CpuNow(scenario);
        var batchSize = router is null ? null : BatchSizeProbe.Mean(batchesBefore, await BatchSizeProbe.ReadAsync(router).ConfigureAwait(false));
        Console.WriteLine($"  {saturation.RecordsPerSecond:N0} records/s at saturation ({saturation.Received:N0}/{saturation.Sent:N0} back){(batchSize is { } b ? $", {b} records per ModelInfer call" : "")}");
        Console.WriteLine($"  speed probe during it: {speed.MedianMicroseconds:N0} µs of CPU per unit (median of {speed.Units}, p90 {speed.P90Microseconds:N0})");
        var loads = new List<LoadPoint>();
        var half = Math.Round(saturation.RecordsPerSecond * 0.5);
        var offeredLoads = settings.Loads.Where(l => l < saturation.RecordsPerSecond * 0.9).Select(l => (Offered: l, Half: false)).Append((Offered: half, Half: true));
        foreach (var (offered, isHalf) in offeredLoads.Where(l => l.Offered > 0))
        {
            var count = Math.Max(100, (int)(offered * settings.LoadSeconds));
            var result = driver.Run($"r{run}l{offered:F0}", count, offered, timeout);
            loads.Add(new LoadPoint(offered, isHalf, result));
            Console.WriteLine($"  at {offered:N0}/s offered: p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, p99.9 {result.P999Ms:F2} ms, max {result.MaxMs:F2} ms ({result.Received:N0}/{result.Sent:N0} back)");
        }

        var per1000 = 1000.0 / Math.Max(1, saturation.Received);
        var byProcess = cpuAfter.ByProcess.ToDictionary(p => p.Key, p => Math.Round((p.Value - cpuBefore.ByProcess[p.Key]).TotalSeconds * per1000, 4));
        return new RunResult(run, saturation, loads,
            (cpuAfter.Total - cpuBefore.Total).TotalSeconds * per1000,
            (cpuAfter.Services - cpuBefore.Services).TotalSeconds * per1000,
            byProcess,
            batchSize,
            speed);
    }

    // Where the CPU goes: each service process, and this process (the broker, the load driver and, for the
    // fused scenario, the pipeline itself).
    private static (TimeSpan Total, TimeSpan Services, Dictionary<string, TimeSpan> ByProcess) CpuNow(BenchScenario scenario)
    {
        var byProcess = scenario.Processes.ToDictionary(p => p.Name, p => p.CpuTime());
        var services = byProcess.Values.Aggregate(TimeSpan.Zero, (sum, t) => sum + t);
        var own = Process.GetCurrentProcess().TotalProcessorTime;
        byProcess["bench"] = own;
        return (services + own, services, byProcess);
    }

    private static readonly string[] s_scenarios = ["fused", "mesh", "mesh-framed", "mesh-per-message"];

    private static bool IsFramed(string scenario) => scenario.EndsWith("-framed", StringComparison.Ordinal);

    private static BenchScenario Create(string name, BenchSchemaRegistry? registry) => name switch
    {
        "fused" => new FusedScenario(),
        "mesh" => new MeshScenario("mesh", MeshDescription, new Dictionary<string, string>()),
        "mesh-framed" => new MeshScenario("mesh-framed", "the same mesh with Kafka:SchemaRegistry:Url set: every topic's values in Confluent's protobuf wire format", new Dictionary<string, string>(), registry),
        "mesh-per-message" => new MeshScenario("mesh-per-message", "the same mesh with one gRPC call per record, one in flight per arm (the talk's per-message consumer)", new Dictionary<string, string>
        {
            ["Router__Batching__MaxBatchSize"] = "1",
            ["Router__Batching__MaxInFlightBatches"] = "1",
        }),
        _ => throw new ArgumentException($"--scenario: unknown scenario '{name}' ({string.Join(", ", s_scenarios)})."),
    };

    private const string MeshDescription = "router + model host as processes, A/B over two models plus one shadow, micro-batches of up to 64 (2 ms), 4 in flight per arm";

    private static async Task CreateTopicsAsync(EmbeddedKafkaBroker? broker, string bootstrap, BenchTopics topics)
    {
        if (broker is not null)
        {
            foreach (var topic in topics.All)
            {
                broker.CreateTopic(topic, BenchTopics.Partitions);
            }

            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync(topics.All.Select(t => new TopicSpecification { Name = t, NumPartitions = BenchTopics.Partitions, ReplicationFactor = -1 })).ConfigureAwait(false);
    }

    /// <summary>
    /// On a real cluster, removes a run's topics once it is measured: every run has topics of its own, and a default
    /// benchmark would otherwise leave 60 of them behind. The embedded broker ends with the benchmark.
    /// </summary>
    private static async Task DeleteTopicsAsync(EmbeddedKafkaBroker? broker, string bootstrap, BenchTopics topics)
    {
        if (broker is not null)
        {
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        try
        {
            await admin.DeleteTopicsAsync(topics.All).ConfigureAwait(false);
        }
        catch (DeleteTopicsException e)
        {
            Console.Error.WriteLine($"warning: the run's topics were not all deleted ({string.Join(", ", e.Results.Where(r => r.Error.IsError).Select(r => $"{r.Topic}: {r.Error.Reason}"))}).");
        }
    }
}

internal sealed record LoadPoint(double Offered, bool HalfOfSaturation, LoadResult Result);

internal sealed record RunResult(int Run, LoadResult Saturation, IReadOnlyList<LoadPoint> Loads, double CpuSecondsPer1000, double ServiceCpuSecondsPer1000, IReadOnlyDictionary<string, double> CpuSecondsPer1000ByProcess, double? RouterBatchSize = null, SpeedSample? Speed = null);

/// <summary>A scenario's runs; <paramref name="WireFormat"/>: plain or confluent, how every topic's values were written.</summary>
internal sealed record ScenarioResult(string Name, string Description, int Records, IReadOnlyList<RunResult> Runs, IReadOnlyDictionary<string, double> PeakRssMiB, string WireFormat = BenchWireFormat.PlainName);

internal sealed record BenchReport(
    DateTimeOffset Date, string Machine, string Broker, string Command, string LoadBefore, string LoadAfter, bool Busy, IReadOnlyList<ScenarioResult> Scenarios,
    SoakResult? Soak = null, string? SchemaRegistry = null);
