using System.Globalization;
using System.Net.Http;
using Mesh.Cli.Processes;

namespace Mesh.Cli.Bench;

/// <summary>One way of running the pipeline under test: in-process (fused) or the mesh's processes.</summary>
internal abstract class BenchScenario : IAsyncDisposable
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public BenchTopics Topics { get; } = BenchTopics.Unique("s");

    /// <summary>The processes whose CPU and memory count for this scenario (none for the fused one: it runs here).</summary>
    public virtual IReadOnlyList<ServiceProcess> Processes => [];

    /// <summary>How the load driver writes features and reads predictions, and the services their topics.</summary>
    public virtual BenchWireFormat WireFormat => BenchWireFormat.Plain;

    public abstract Task StartAsync(BenchContext context, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

internal sealed record BenchContext(string BootstrapServers, string RepositoryRoot, string Configuration, string ModelRepository, string WorkDir);

internal sealed class FusedScenario : BenchScenario
{
    private FusedPipeline? _pipeline;

    public override string Name => "fused";

    public override string Description => "one process: consume, ONNX Runtime in-process on batches of up to 256, produce";

    public override Task StartAsync(BenchContext context, CancellationToken cancellationToken)
    {
        _pipeline = new FusedPipeline(context.BootstrapServers, Topics, Path.Combine(context.ModelRepository, "iris-logreg", "1"), ["setosa", "versicolor", "virginica"]);
        return Task.CompletedTask;
    }

    public override ValueTask DisposeAsync()
    {
        _pipeline?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The mesh: router and model host as their own processes, an A/B experiment over two models plus one shadow. With a
/// registry, every mesh topic's values are framed in Confluent's wire format (the router registers its outputs' schemas,
/// the load driver the features').
/// </summary>
internal sealed class MeshScenario(string name, string description, IReadOnlyDictionary<string, string> routerSettings, BenchSchemaRegistry? registry = null) : BenchScenario
{
    private static readonly TimeSpan s_bindPatience = TimeSpan.FromSeconds(90);

    private readonly List<ServiceProcess> _processes = [];

    public override string Name => name;

    public override string Description => description;

    public override IReadOnlyList<ServiceProcess> Processes => _processes;

    public override BenchWireFormat WireFormat => registry?.WireFormat ?? BenchWireFormat.Plain;

    public override async Task StartAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var common = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = context.BootstrapServers,
            ["Kafka__Topics__Features"] = Topics.Features,
            ["Kafka__Topics__Predictions"] = Topics.Predictions,
            ["Kafka__Topics__ShadowPredictions"] = Topics.ShadowPredictions,
            ["Kafka__Topics__Labels"] = Topics.Labels,
            ["Kafka__Topics__DeadLetter"] = Topics.DeadLetter,
            // The embedded broker holds an empty fetch for the whole wait; a real broker answers when data arrives.
            ["Kafka__Consumer__FetchWaitMaxMs"] = "1",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // The router's spec names the gRPC port, so both ports are picked (and picked again if taken before the bind).
        var grpc = 0;
        _processes.Add(await ServiceProcess.StartBoundAsync("model-host", ServiceProcess.ServiceDll(context.RepositoryRoot, context.Configuration, "model-host", "Mesh.ModelHost"), ports =>
        {
            grpc = ports.Next();
            return new Dictionary<string, string>(common)
            {
                ["ModelHost__ModelRepository"] = context.ModelRepository,
                ["Kestrel__Endpoints__Http__Url"] = ports.NextUrl(),
                ["Kestrel__Endpoints__Grpc__Url"] = Loopback(grpc),
            };
        }, s_bindPatience).ConfigureAwait(false));

        var spec = Path.Combine(context.WorkDir, $"{name}-experiments.yaml");
        await File.WriteAllTextAsync(spec, $"""
            experiments:
              - name: bench-ab
                strategy: ab
                arms:
                  - name: logreg
                    weight: 50
                    endpoint: {Loopback(grpc)}
                    model: iris-logreg
                    version: "1"
                  - name: boosted
                    weight: 50
                    endpoint: {Loopback(grpc)}
                    model: iris-boosted
                    version: "1"
                shadows:
                  - name: shadow-boosted
                    endpoint: {Loopback(grpc)}
                    model: iris-boosted
                    version: "1"
            """, cancellationToken).ConfigureAwait(false);
        var router = new Dictionary<string, string>(common)
        {
            ["Router__ExperimentFile"] = spec,
            ["Router__GroupId"] = "mesh-bench-router-" + Guid.NewGuid().ToString("N")[..8],
            ["Urls"] = Loopback(0),
            // Set even when empty: a Kafka__SchemaRegistry__Url in the benchmark's environment must not frame the plain scenarios.
            ["Kafka__SchemaRegistry__Url"] = registry?.Options.Url ?? "",
        };
        foreach (var (key, value) in routerSettings)
        {
            router[key] = value;
        }

        var routerProcess = await ServiceProcess.StartBoundAsync("router", ServiceProcess.ServiceDll(context.RepositoryRoot, context.Configuration, "router", "Mesh.Router"), _ => router, s_bindPatience).ConfigureAwait(false);
        _processes.Add(routerProcess);
        if (routerProcess.HasExited)
        {
            throw new InvalidOperationException($"The router exited with {routerProcess.ExitCode}:\n{routerProcess.Output}");
        }

        await WaitHealthyAsync(routerProcess, new Uri(routerProcess.Url, "/health").ToString(), cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task WaitHealthyAsync(ServiceProcess process, string url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The router exited with {process.ExitCode}:\n{process.Output}");
            }

            try
            {
                if ((await http.GetAsync(url, cancellationToken).ConfigureAwait(false)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"The router was not healthy at {url} within 90 s:\n{process.Output}");
    }

    private static string Loopback(int port) => "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
}
