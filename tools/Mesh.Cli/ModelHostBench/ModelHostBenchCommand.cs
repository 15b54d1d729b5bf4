using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using Mesh.Cli.Bench;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.Cli.ModelHostBench;

internal sealed record ModelHostBenchSettings(
    double DurationSeconds,
    double WarmupSeconds,
    IReadOnlyList<int> BatchSizes,
    int Callers,
    int MaxQueueDelayMicroseconds,
    int MaxBatchSize,
    string Configuration,
    string Output,
    string? DocsFile);

/// <summary>
/// `mesh bench-model-host`: the real model host (its build output, as its own process) called over gRPC
/// by one caller per batch size, next to the same ONNX Runtime call made in this process; then many
/// concurrent single-row callers against a host with dynamic batching on and one with it off.
/// </summary>
internal static class ModelHostBenchCommand
{
    private const string ModelName = DemoModelTrainer.LogisticRegressionName;
    private const int FeatureCount = 4;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static async Task<int> RunAsync(ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        var root = RepositoryRoot.Find();
        var work = Directory.CreateTempSubdirectory("mesh-bench-model-host-").FullName;
        try
        {
            var models = Path.Combine(work, "models");
            var model = DemoModelTrainer.Train(Path.Combine(root, "data", "iris.csv"), models, TextWriter.Null).Single(m => m.Name == ModelName);
            var dll = ServiceProcess.ServiceDll(root, settings.Configuration, "model-host", "Mesh.ModelHost");
            Console.WriteLine($"mesh bench-model-host: {ModelName} v{model.Version}, {Environment.ProcessorCount} cores, {settings.DurationSeconds:0.###} s per measurement");

            var batchResults = new List<BatchSizeResult>();
            Throughput unbatched;
            // The per-batch-size runs use the host without dynamic batching: one caller has nothing to
            // coalesce with, and a queue delay would only add waiting to the gRPC side of the comparison.
            await using (var host = await StartHostAsync(dll, models, batching: false, settings, cancellationToken).ConfigureAwait(false))
            {
                foreach (var rows in settings.BatchSizes)
                {
                    var grpc = await MeasureGrpcAsync(host.Client, rows, callers: 1, settings, cancellationToken).ConfigureAwait(false);
                    var inProcess = MeasureInProcess(model.ModelPath, rows, settings, cancellationToken);
                    batchResults.Add(BatchSizeResult.Create(rows, grpc, inProcess));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"batch {rows}: gRPC {grpc.RequestsPerSecond:N0} req/s, in-process {inProcess.RequestsPerSecond:N0} calls/s"));
                }

                unbatched = await MeasureGrpcAsync(host.Client, 1, settings.Callers, settings, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{settings.Callers} callers, batching off: {unbatched.RowsPerSecond:N0} rows/s"));
            }

            Throughput batched;
            await using (var host = await StartHostAsync(dll, models, batching: true, settings, cancellationToken).ConfigureAwait(false))
            {
                batched = await MeasureGrpcAsync(host.Client, 1, settings.Callers, settings, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{settings.Callers} callers, batching on: {batched.RowsPerSecond:N0} rows/s"));
            }

            var concurrency = new ConcurrencyResult(
                settings.Callers, 1, settings.MaxBatchSize, settings.MaxQueueDelayMicroseconds, batched, unbatched,
                unbatched.RowsPerSecond > 0 ? batched.RowsPerSecond / unbatched.RowsPerSecond : 0);
            var report = new ModelHostBenchReport(
                DateTimeOffset.UtcNow, MachineDescription(), Environment.CommandLine, ModelName, model.Version,
                settings.DurationSeconds, settings.WarmupSeconds, batchResults, concurrency);

            Directory.CreateDirectory(settings.Output);
            var json = Path.Combine(settings.Output, "model-host-bench.json");
            var markdown = Path.Combine(settings.Output, "model-host-bench.md");
            var table = ModelHostBenchFormatter.Markdown(report);
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, s_json), cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(markdown, table, cancellationToken).ConfigureAwait(false);
            if (settings.DocsFile is not null)
            {
                // Appended, never rewritten: the file holds other benchmarks' sections.
                await File.AppendAllTextAsync(settings.DocsFile, ModelHostBenchFormatter.DocsSection(report, table), cancellationToken).ConfigureAwait(false);
            }

            Console.WriteLine();
            Console.WriteLine(table);
            Console.WriteLine($"Written: {json}, {markdown}{(settings.DocsFile is null ? "" : ", appended to " + settings.DocsFile)}");
            var errors = batchResults.Sum(b => b.Grpc.Errors) + batched.Errors + unbatched.Errors;
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

    private static async Task<Host> StartHostAsync(string dll, string models, bool batching, ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        var grpcPort = ServiceProcess.FreePort();
        var process = ServiceProcess.Start(batching ? "model-host (batching on)" : "model-host (batching off)", dll, new Dictionary<string, string>
        {
            ["ModelHost__ModelRepository"] = models,
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpcPort}",
            ["ModelHost__Batching__Enabled"] = batching ? "true" : "false",
            ["ModelHost__Batching__MaxBatchSize"] = settings.MaxBatchSize.ToString(CultureInfo.InvariantCulture),
            ["ModelHost__Batching__MaxQueueDelayMicroseconds"] = settings.MaxQueueDelayMicroseconds.ToString(CultureInfo.InvariantCulture),
            // Callers of the concurrency run must never be refused for a full queue: that would measure refusals.
            ["ModelHost__Batching__MaxQueueSize"] = Math.Max(1024, settings.Callers * 4).ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
        });
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var host = new Host(process, channel);
        try
        {
            await WaitForReadyAsync(host, cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task WaitForReadyAsync(Host host, CancellationToken cancellationToken)
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
                var ready = await host.Client.ServerReadyAsync(new ServerReadyRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
                var model = await host.Client.ModelReadyAsync(new ModelReadyRequest { Name = ModelName, Version = DemoModelTrainer.ModelVersion }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
                if (ready.Ready && model.Ready)
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

    private static async Task<Throughput> MeasureGrpcAsync(GRPCInferenceService.GRPCInferenceServiceClient client, int rows, int callers, ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        var request = new ModelInferRequest { ModelName = ModelName, ModelVersion = DemoModelTrainer.ModelVersion };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = DemoModelTrainer.InputName, Datatype = "FP32", Shape = { rows, FeatureCount } });
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(Features(rows).AsSpan())));

        // Warm-up has the same shape as the measurement, so connections, streams and the host's pools are in place.
        await RunCallersAsync(client, request, callers, settings.WarmupSeconds, cancellationToken).ConfigureAwait(false);
        var elapsed = Stopwatch.StartNew();
        var perCaller = await RunCallersAsync(client, request, callers, settings.DurationSeconds, cancellationToken).ConfigureAwait(false);
        var seconds = elapsed.Elapsed.TotalSeconds;
        var latencies = perCaller.SelectMany(c => c.Latencies).ToArray();
        return Throughput.Create(latencies, rows, seconds, perCaller.Sum(c => c.Errors));
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

    private static Throughput MeasureInProcess(string modelPath, int rows, ModelHostBenchSettings settings, CancellationToken cancellationToken)
    {
        // The host's default session settings: one intra-op and one inter-op thread, full graph optimisation.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(modelPath, options);
        using var runOptions = new RunOptions();
        using var input = OrtValue.CreateTensorValueFromMemory(Features(rows), [rows, FeatureCount]);
        string[] inputNames = [DemoModelTrainer.InputName];
        OrtValue[] inputs = [input];
        var outputNames = session.OutputNames.ToArray();

        void Call()
        {
            // All outputs are fetched, as the host returns all of them when none are requested.
            using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
        }

        Loop(settings.WarmupSeconds, null);
        var latencies = new List<double>();
        var elapsed = Stopwatch.StartNew();
        Loop(settings.DurationSeconds, latencies);
        return Throughput.Create([.. latencies], rows, elapsed.Elapsed.TotalSeconds, 0);

        void Loop(double seconds, List<double>? record)
        {
            var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                Call();
                record?.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
    }

    /// <summary>Iris-like rows, the same every run, so both sides score identical inputs.</summary>
    private static float[] Features(int rows)
    {
        var random = new Random(20261127);
        var values = new float[rows * FeatureCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(0.1 + (random.NextDouble() * 7.8));
        }

        return values;
    }

    private static string MachineDescription()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), {memory:F0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }

    private sealed class CallerResult
    {
        public List<double> Latencies { get; } = [];

        public int Errors { get; set; }
    }

    /// <summary>A started host and the one channel (h2c) every caller shares.</summary>
    private sealed class Host(ServiceProcess process, GrpcChannel channel) : IAsyncDisposable
    {
        public ServiceProcess Process { get; } = process;

        public GRPCInferenceService.GRPCInferenceServiceClient Client { get; } = new(channel);

        public async ValueTask DisposeAsync()
        {
            channel.Dispose();
            await Process.DisposeAsync().ConfigureAwait(false);
        }
    }
}
