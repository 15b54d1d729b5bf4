using System.Globalization;
using Mesh.Cli.Processes;
using Mesh.Kafka;

namespace Mesh.Cli.Chaos;

/// <summary>
/// The services of one chaos run and their settings: a model host, two routers in one consumer group (each with its
/// own static-membership instance name, kept across restarts), the metrics sink with Redis join state, the producer.
/// </summary>
internal sealed class ChaosStack(string root, ChaosSettings settings, string bootstrapServers, MeshTopics topics, string redis, string models, string logs) : IAsyncDisposable
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<ChaosService> _victims = [];
    private ChaosService? _producer;

    /// <summary>The names the killer may pick (not the broker or Redis: both keep their data in memory only).</summary>
    public static readonly IReadOnlyList<string> Names = ["model-host", "router-a", "router-b", "metrics-sink"];

    /// <summary>The long-running services, in <see cref="Names"/> order.</summary>
    public IReadOnlyList<ChaosService> Services => _victims;

    /// <summary>The metrics sink's HTTP port (its <c>/summary.json</c>), once started.</summary>
    public int SinkPort => _victims.Single(v => v.Name == "metrics-sink").HttpPort;

    /// <summary>Starts the model host, then (with its gRPC port in the experiment) the routers and the sink.</summary>
    public async Task StartServicesAsync()
    {
        var grpcPort = 0;
        var modelHost = Service("model-host", "model-host", "Mesh.ModelHost", ports =>
        {
            var http = ports.Picked[0];
            grpcPort = ports.Next();
            return new()
            {
                ["ModelHost__ModelRepository"] = models,
                ["Kestrel__Endpoints__Http__Url"] = LoopbackPorts.Url(http),
                ["Kestrel__Endpoints__Grpc__Url"] = LoopbackPorts.Url(grpcPort),
            };
        });
        _victims.Add(modelHost);
        await modelHost.StartAsync().ConfigureAwait(false);
        var experiments = WriteExperiment(grpcPort);
        foreach (var name in new[] { "router-a", "router-b" })
        {
            _victims.Add(Service(name, "router", "Mesh.Router", _ => new()
            {
                ["Router__ExperimentFile"] = experiments,
                ["Router__GroupId"] = "chaos-router-" + _run,
                ["Kafka__StaticMembership__InstanceName"] = $"chaos-{_run}-{name}",
            }));
        }

        _victims.Add(Service("metrics-sink", "metrics-sink", "Mesh.MetricsSink", _ => new()
        {
            ["MetricsSink__TrackingDir"] = Path.Combine(settings.StateDir, "tracking"),
            ["MetricsSink__GroupId"] = "chaos-sink-" + _run,
            ["MetricsSink__Redis"] = redis,
            ["MetricsSink__JoinState"] = "Redis",
            ["MetricsSink__JoinKeyPrefix"] = $"chaos:{_run}:join:",
            ["MetricsSink__BanditKeyPrefix"] = $"chaos:{_run}:bandit:",
            ["Kafka__StaticMembership__InstanceName"] = $"chaos-{_run}-metrics-sink",
        }));
        await Task.WhenAll(_victims.Skip(1).Select(v => v.StartAsync())).ConfigureAwait(false);
    }

    public async Task<ChaosService> StartProducerAsync()
    {
        _producer = Service("producer", "producer", "Mesh.Producer", _ => new()
        {
            ["Producer__File"] = Path.Combine(root, "data", "iris.csv"),
            ["Producer__Count"] = settings.Records.ToString(CultureInfo.InvariantCulture),
            ["Producer__Rate"] = settings.Rate.ToString(CultureInfo.InvariantCulture),
            ["Producer__Entities"] = "1000",
            ["Producer__LabelDelayMs"] = "200",
            ["Producer__Seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
        });
        await _producer.StartAsync().ConfigureAwait(false);
        return _producer;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _victims.Append(_producer).OfType<ChaosService>())
        {
            await service.DisposeAsync().ConfigureAwait(false);
        }
    }

    // The first port picked is the service's HTTP port (Urls); own settings may pick more.
    private ChaosService Service(string name, string folder, string assembly, Func<LoopbackPorts, Dictionary<string, string>> own)
    {
        var dll = ServiceProcess.ServiceDll(root, settings.Configuration, folder, assembly);
        return new ChaosService(name, dll, ports =>
        {
            var all = new Dictionary<string, string>
            {
                ["Urls"] = ports.NextUrl(),
                ["Kafka__BootstrapServers"] = bootstrapServers,
                ["Kafka__Topics__Features"] = topics.Features,
                ["Kafka__Topics__Predictions"] = topics.Predictions,
                ["Kafka__Topics__ShadowPredictions"] = topics.ShadowPredictions,
                ["Kafka__Topics__Labels"] = topics.Labels,
                ["Kafka__Topics__DeadLetter"] = topics.DeadLetter,
            };
            foreach (var (key, value) in own(ports))
            {
                all[key] = value;
            }

            return all;
        }, Path.Combine(logs, name + ".log"));
    }

    private string WriteExperiment(int grpcPort)
    {
        var path = Path.Combine(settings.StateDir, "experiments.yaml");
        File.WriteAllText(path, DemoExperiment(grpcPort));
        return path;
    }

    /// <summary>The demo A/B test: the two iris models, 50/50, both on the model host at <paramref name="grpcPort"/>.</summary>
    public static string DemoExperiment(int grpcPort) => $"""
        experiments:
          - name: iris-ab
            strategy: ab
            arms:
              - name: logreg
                weight: 50
                endpoint: http://127.0.0.1:{grpcPort}
                model: iris-logreg
                version: "1"
              - name: boosted
                weight: 50
                endpoint: http://127.0.0.1:{grpcPort}
                model: iris-boosted
                version: "1"
        """;
}
