using Mesh.Cli.Chaos;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Mesh.Kafka;
using Mesh.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The processes of a scale test over the test's Kafka cluster: a model host with the demo models, routers in one
/// consumer group (each with its own static-membership instance name, so a restart comes back under the same id), the
/// producer. Every process started is stopped (SIGTERM, then SIGKILL) when this is disposed.
/// </summary>
internal sealed class ScaleOutMesh(KafkaTestCluster kafka, MeshTopics topics, string work) : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];
    private readonly string _group = "scale-router-" + Guid.NewGuid().ToString("N")[..8];
    private string? _experiments;

    public IReadOnlyList<ServiceProcess> Processes => _processes;

    /// <summary>The routers' consumer group.</summary>
    public string Group => _group;

    public ServiceProcess StartModelHost()
    {
        var models = Path.Combine(work, "models");
        DemoModelTrainer.Train(Path.Combine(Repository.Root, "data", "iris.csv"), models, TextWriter.Null);
        var grpcPort = ServiceProcess.FreePort();
        _experiments = Path.Combine(work, "experiments.yaml");
        File.WriteAllText(_experiments, ChaosStack.DemoExperiment(grpcPort));
        return Start("model-host", "model-host", "Mesh.ModelHost", ServiceProcess.FreePort(), new()
        {
            ["ModelHost__ModelRepository"] = models,
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpcPort}",
        }, kestrelHttp: true);
    }

    /// <summary>A router of the group under instance name <paramref name="instance"/>, its <c>/health</c> on <paramref name="httpPort"/>.</summary>
    public ServiceProcess StartRouter(string instance, int httpPort) =>
        Start(instance, "router", "Mesh.Router", httpPort, new()
        {
            ["Router__ExperimentFile"] = _experiments ?? throw new InvalidOperationException("Start the model host first."),
            ["Router__GroupId"] = _group,
            ["Kafka__StaticMembership__InstanceName"] = _group + "-" + instance,
        });

    public ServiceProcess StartProducer(int records, int rate) =>
        Start("producer", "producer", "Mesh.Producer", ServiceProcess.FreePort(), new()
        {
            ["Producer__File"] = Path.Combine(Repository.Root, "data", "iris.csv"),
            ["Producer__Count"] = records.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Producer__Rate"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Producer__Entities"] = "500",
            ["Producer__Seed"] = "11",
        });

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    private ServiceProcess Start(string name, string folder, string assembly, int httpPort, Dictionary<string, string> settings, bool kestrelHttp = false)
    {
        var url = $"http://127.0.0.1:{httpPort}";
        settings[kestrelHttp ? "Kestrel__Endpoints__Http__Url" : "Urls"] = url;
        settings["Kafka__BootstrapServers"] = kafka.BootstrapServers;
        settings["Kafka__Topics__Features"] = topics.Features;
        settings["Kafka__Topics__Predictions"] = topics.Predictions;
        settings["Kafka__Topics__ShadowPredictions"] = topics.ShadowPredictions;
        settings["Kafka__Topics__Labels"] = topics.Labels;
        settings["Kafka__Topics__DeadLetter"] = topics.DeadLetter;
        var process = ServiceProcess.Start(name, ServiceProcess.ServiceDll(Repository.Root, Repository.Configuration, folder, assembly), settings);
        _processes.Add(process);
        return process;
    }

    /// <summary>Waits until <c>/health</c> on <paramref name="httpPort"/> answers 200 (joined, assigned, broker reachable).</summary>
    public static async Task<bool> HealthyAsync(ServiceProcess process, int httpPort, TimeSpan patience)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/health"));
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        return false;
    }
}
