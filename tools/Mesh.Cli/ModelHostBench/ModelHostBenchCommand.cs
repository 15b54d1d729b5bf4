using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.Cli.ModelHostBench;

/// <summary>
/// `mesh bench-model-host`: the real model host (its build output, as its own process) called over gRPC,
/// per batch size by one caller and by a few concurrent callers, next to the same ONNX Runtime call made
/// in this process by as many threads; then many concurrent single-row callers against a host with dynamic
/// batching on and one with it off. Three models: the tiny iris classifier (where a call is mostly
/// transport) and two MLPs with realistic work per row (where it is mostly compute).
/// </summary>
internal static partial class ModelHostBenchCommand
{
    // Alternating rounds of the batching comparison.
    private const int ConcurrencyRounds = 3;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static async Task<int> RunAsync(ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        var root = RepositoryRoot.Find();
        var work = Directory.CreateTempSubdirectory("mesh-bench-model-host-").FullName;
        try
        {
            var repository = Path.Combine(work, "models");
            var iris = DemoModelTrainer.Train(Path.Combine(root, "data", "iris.csv"), repository, TextWriter.Null)
                .Single(m => m.Name == DemoModelTrainer.LogisticRegressionName);
            BenchModel[] models =
            [
                new(iris.Name, iris.Version, DemoModelTrainer.InputName, DemoModelTrainer.FeatureNames.Count, iris.ModelPath,
                    $"ML.NET logistic regression, {DemoModelTrainer.FeatureNames.Count} FP32 features → label + {DemoModelTrainer.ClassNames.Count} probabilities (about 15 multiply-adds per row)"),
                .. new[] { BenchMlpModel.Small, BenchMlpModel.Large }.Select(mlp =>
                    new BenchModel(mlp.Name, BenchMlpModel.Version, BenchMlpModel.InputName, mlp.Features, mlp.Write(repository), mlp.Describe())),
            ];
            models = [.. models.Where(m => settings.Models.Count == 0 || settings.Models.Contains(m.Name))];
            if (models.Length == 0)
            {
                Console.Error.WriteLine($"error: --model names none of the benchmark's models ({string.Join(", ", settings.Models)}); they are iris-logreg, {BenchMlpModel.Small.Name} and {BenchMlpModel.Large.Name}.");
                return 2;
            }

            var dll = ServiceProcess.ServiceDll(root, settings.Configuration, "model-host", "Mesh.ModelHost");
            var loadBefore = MachineInfo.LoadAverage();
            Console.WriteLine($"mesh bench-model-host: {string.Join(", ", models.Select(m => m.Name))}; {Environment.ProcessorCount} cores, load {loadBefore}; {settings.DurationSeconds:0.###} s per measurement");

            var batchResults = models.ToDictionary(m => m.Name, _ => new List<BatchSizeResult>());
            var rounds = models.ToDictionary(m => m.Name, _ => new List<ConcurrencyRound>());

            // Both hosts run side by side (the one not measured sits idle), each warmed the same way, and
            // the batching comparison alternates between them round by round, so load from elsewhere on
            // the machine falls on both sides alike and the spread between rounds is shown.
            await using var unbatchedHost = await StartHostAsync(dll, repository, models, batching: false, settings, cancellationToken).ConfigureAwait(false);
            await using var batchedHost = await StartHostAsync(dll, repository, models, batching: true, settings, cancellationToken).ConfigureAwait(false);
            for (var round = 1; round <= ConcurrencyRounds; round++)
            {
                foreach (var model in models)
                {
                    var off = await MeasureGrpcAsync(unbatchedHost, model, 1, settings.Callers, settings, cancellationToken).ConfigureAwait(false);
                    var on = await MeasureGrpcAsync(batchedHost, model, 1, settings.Callers, settings, cancellationToken).ConfigureAwait(false);
                    rounds[model.Name].Add(new ConcurrencyRound(round, on, off, off.RowsPerSecond > 0 ? on.RowsPerSecond / off.RowsPerSecond : 0));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{model.Name}, {settings.Callers} callers, round {round}: batching on {on.RowsPerSecond:N0} rows/s ({on.MeanRowsPerRun:0.0} rows per ONNX Runtime call), off {off.RowsPerSecond:N0} rows/s"));
                }
            }

            // The per-batch-size runs use the host without dynamic batching: their callers send whole
            // batches already, and a queue delay would only add waiting to the gRPC side of the comparison.
            foreach (var model in models)
            {
                foreach (var rows in settings.BatchSizes)
                {
                    var grpc = await MeasureGrpcAsync(unbatchedHost, model, rows, callers: 1, settings, cancellationToken).ConfigureAwait(false);
                    var inProcess = InProcessBaseline.Measure(model, rows, threads: 1, settings, cancellationToken);
                    var grpcConcurrent = await MeasureGrpcAsync(unbatchedHost, model, rows, settings.ThroughputCallers, settings, cancellationToken).ConfigureAwait(false);
                    var inProcessConcurrent = InProcessBaseline.Measure(model, rows, settings.ThroughputCallers, settings, cancellationToken);
                    var result = BatchSizeResult.Create(rows, grpc, inProcess, settings.ThroughputCallers, grpcConcurrent, inProcessConcurrent);
                    batchResults[model.Name].Add(result);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{model.Name} batch {rows}: 1 caller gRPC {grpc.RowsPerSecond:N0} rows/s vs in-process {inProcess.RowsPerSecond:N0} ({result.GrpcOverheadPercent:N0} % overhead); {settings.ThroughputCallers} callers gRPC {grpcConcurrent.RowsPerSecond:N0} vs {inProcessConcurrent.RowsPerSecond:N0} ({result.ConcurrentGrpcOverheadPercent:N0} %)"));
                }
            }

            var concurrency = models.ToDictionary(
                m => m.Name,
                m => ConcurrencyResult.Create(settings.Callers, 1, settings.MaxBatchSize, settings.MaxQueueDelayMicroseconds, rounds[m.Name]));

            var report = new ModelHostBenchReport(
                DateTimeOffset.UtcNow, MachineInfo.Describe(), Environment.ProcessorCount, loadBefore, MachineInfo.LoadAverage(), Environment.CommandLine,
                settings.DurationSeconds, settings.WarmupSeconds,
                [.. models.Select(m => new ModelResult(m.Name, m.Version, m.Description, batchResults[m.Name], concurrency[m.Name]))]);

            Directory.CreateDirectory(settings.Output);
            var json = Path.Combine(settings.Output, "model-host-bench.json");
            var markdown = Path.Combine(settings.Output, "model-host-bench.md");
            var table = ModelHostBenchFormatter.Markdown(report);
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, s_json), cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(markdown, table, cancellationToken).ConfigureAwait(false);
            if (settings.DocsFile is not null)
            {
                // The file holds other benchmarks' sections: only this one is replaced (or added).
                var existing = File.Exists(settings.DocsFile) ? await File.ReadAllTextAsync(settings.DocsFile, cancellationToken).ConfigureAwait(false) : "";
                await File.WriteAllTextAsync(settings.DocsFile, ModelHostBenchFormatter.ReplaceSection(existing, ModelHostBenchFormatter.DocsSection(report, table)), cancellationToken).ConfigureAwait(false);
            }

            Console.WriteLine();
            Console.WriteLine(table);
            Console.WriteLine($"Written: {json}, {markdown}{(settings.DocsFile is null ? "" : ", section \"## Model host\" of " + settings.DocsFile)}");
            var errors = report.Models.Sum(m => m.BatchSizes.Sum(b => b.Grpc.Errors + b.GrpcConcurrent.Errors) + m.Concurrency.Rounds.Sum(r => r.BatchingOn.Errors + r.BatchingOff.Errors));
            if (errors > 0)
            {
                Console.Error.WriteLine($"error: {errors} call(s) failed; the figures are not trustworthy.");
                return 1;
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<Host> StartHostAsync(string dll, string repository, IReadOnlyList<BenchModel> models, bool batching, ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        var (grpcPort, httpPort) = (0, 0);
        var process = await ServiceProcess.StartBoundAsync(batching ? "model-host (batching on)" : "model-host (batching off)", dll, ports =>
        {
            (grpcPort, httpPort) = (ports.Next(), ports.Next());
            return new Dictionary<string, string>
            {
                ["ModelHost__ModelRepository"] = repository,
                ["Kestrel__Endpoints__Http__Url"] = LoopbackPorts.Url(httpPort),
                ["Kestrel__Endpoints__Grpc__Url"] = LoopbackPorts.Url(grpcPort),
                ["ModelHost__Batching__Enabled"] = batching ? "true" : "false",
                ["ModelHost__Batching__MaxBatchSize"] = settings.MaxBatchSize.ToString(CultureInfo.InvariantCulture),
                ["ModelHost__Batching__MaxQueueDelayMicroseconds"] = settings.MaxQueueDelayMicroseconds.ToString(CultureInfo.InvariantCulture),
                // Callers of the concurrency run must never be refused for a full queue: that would measure refusals.
                ["ModelHost__Batching__MaxQueueSize"] = Math.Max(1024, settings.Callers * 4).ToString(CultureInfo.InvariantCulture),
                ["Logging__LogLevel__Default"] = "Warning",
            };
        }, TimeSpan.FromSeconds(90)).ConfigureAwait(false);
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var host = new Host(process, channel, new Uri($"http://127.0.0.1:{httpPort}"));
        try
        {
            await WaitForReadyAsync(host, models, cancellationToken).ConfigureAwait(false);

            // A fresh process runs its first calls on quickly compiled code and recompiles the hot paths in
            // the background (tiered compilation), which on two busy cores takes seconds: serve every
            // model for a while before anything is measured.
            foreach (var model in models)
            {
                var request = Request(model, 1);
                await RunCallersAsync(host.Client, request, settings.Callers, HostWarmupSeconds(settings), cancellationToken).ConfigureAwait(false);
            }

            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task WaitForReadyAsync(Host host, IReadOnlyList<BenchModel> models, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (host.Process.HasExited)
            {
                throw new InvalidOperationException($"{host.Process.Name} exited with {host.Process.ExitCode}:\n{host.Process.Output}");
            }

            try
            {
                var ready = (await host.Client.ServerReadyAsync(new ServerReadyRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false)).Ready;
                foreach (var model in models)
                {
                    ready &= (await host.Client.ModelReadyAsync(new ModelReadyRequest { Name = model.Name, Version = model.Version }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false)).Ready;
                }

                if (ready)
                {
                    return;
                }
            }
            catch (RpcException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"{host.Process.Name} was not ready within 60 s:\n{host.Process.Output}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<Throughput> MeasureGrpcAsync(Host host, BenchModel model, int rows, int callers, ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        var request = Request(model, rows);

        // Warm-up has the same shape as the measurement, so connections, streams and the host's pools are in place.
        await RunCallersAsync(host.Client, request, callers, settings.WarmupSeconds, cancellationToken).ConfigureAwait(false);
        var before = await ReadBatchCountersAsync(host, model.Name, cancellationToken).ConfigureAwait(false);
        var elapsed = Stopwatch.StartNew();
        var perCaller = await RunCallersAsync(host.Client, request, callers, settings.DurationSeconds, cancellationToken).ConfigureAwait(false);
        var seconds = elapsed.Elapsed.TotalSeconds;
        var after = await ReadBatchCountersAsync(host, model.Name, cancellationToken).ConfigureAwait(false);

        var runs = after.Runs - before.Runs;
        var latencies = perCaller.SelectMany(c => c.Latencies).ToArray();
        return Throughput.Create(latencies, rows, seconds, perCaller.Sum(c => c.Errors), runs > 0 ? (after.Rows - before.Rows) / runs : 0);
    }

    /// <summary>Seconds each host serves every model before measurements start.</summary>
    public static double HostWarmupSeconds(ModelHostBenchSettings settings) => Math.Max(5, 2 * settings.WarmupSeconds);

    /// <summary>One request, built once with raw contents and sent again and again, as a router that reuses its buffers would.</summary>
    private static ModelInferRequest Request(BenchModel model, int rows)
    {
        var request = new ModelInferRequest { ModelName = model.Name, ModelVersion = model.Version };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = model.InputName, Datatype = "FP32", Shape = { rows, model.Features } });
        request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(MemoryMarshal.AsBytes(InProcessBaseline.Features(rows, model.Features).AsSpan()).ToArray()));
        return request;
    }

    private static async Task<CallerResult[]> RunCallersAsync(GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest request, int callers, double seconds, CancellationToken cancellationToken)
    {
        if (seconds <= 0)
        {
            return [];
        }

        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var result = new CallerResult();
            while (Stopwatch.GetTimestamp() < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await client.ModelInferAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
                    result.Latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
                {
                    result.Errors++;
                    if (result.Errors == 1)
                    {
                        Console.Error.WriteLine($"ModelInfer failed: {e.Status}");
                    }
                }
            }

            return result;
        }, cancellationToken));
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>
    /// Rows and ONNX Runtime calls of one model so far, from the host's own batch-size histogram on
    /// <c>/metrics</c>: their quotient over a measurement is the rows per call dynamic batching achieved.
    /// </summary>
    private static async Task<(double Rows, double Runs)> ReadBatchCountersAsync(Host host, string model, CancellationToken cancellationToken)
    {
        try
        {
            var text = await host.Http.GetStringAsync(new Uri(host.HttpUri, "/metrics"), cancellationToken).ConfigureAwait(false);
            double rows = 0, runs = 0;
            foreach (Match match in BatchSizeLine().Matches(text))
            {
                if (match.Groups["labels"].Value.Contains($"model=\"{model}\"", StringComparison.Ordinal))
                {
                    var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
                    if (match.Groups["kind"].Value == "sum")
                    {
                        rows += value;
                    }
                    else
                    {
                        runs += value;
                    }
                }
            }

            return (rows, runs);
        }
        catch (HttpRequestException)
        {
            return (0, 0);
        }
    }

    [GeneratedRegex(@"^mesh_model_host_batch_size\w*?_(?<kind>sum|count)\{(?<labels>[^}]*)\} (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex BatchSizeLine();

    private sealed class CallerResult
    {
        public List<double> Latencies { get; } = [];

        public int Errors { get; set; }
    }

    /// <summary>A started host, the one channel (h2c) every caller shares, and its HTTP port for <c>/metrics</c>.</summary>
    private sealed class Host(ServiceProcess process, GrpcChannel channel, Uri httpUri) : IAsyncDisposable
    {
        public ServiceProcess Process { get; } = process;

        public GRPCInferenceService.GRPCInferenceServiceClient Client { get; } = new(channel);

        public Uri HttpUri { get; } = httpUri;

        public HttpClient Http { get; } = new();

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            channel.Dispose();
            await Process.DisposeAsync().ConfigureAwait(false);
        }
    }
}
