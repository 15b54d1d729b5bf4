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

    public async Task<ServiceProcess> StartModelHostAsync()
    {
        var models = Path.Combine(work, "models");
        DemoModelTrainer.Train(Path.Combine(Repository.Root, "data", "iris.csv"), models, TextWriter.Null);
        // The routers' spec names the gRPC port: picked before the start, and picked again if taken before the bind.
        var grpcPort = 0;
        var host = await StartAsync("model-host", "model-host", "Mesh.ModelHost", ports =>
        {
            grpcPort = ports.Next();
            return new()
            {
                ["ModelHost__ModelRepository"] = models,
                ["Kestrel__Endpoints__Http__Url"] = LoopbackPorts.Url(0),
                ["Kestrel__Endpoints__Grpc__Url"] = LoopbackPorts.Url(grpcPort),
            };
        });
        _experiments = Path.Combine(work, "experiments.yaml");
        File.WriteAllText(_experiments, ChaosStack.DemoExperiment(grpcPort));
        return host;
    }

    /// <summary>A router of the group under instance name <paramref name="instance"/>, its <c>/health</c> at its <see cref="ServiceProcess.Url"/>.</summary>
    public Task<ServiceProcess> StartRouterAsync(string instance)
    {
        var experiments = _experiments ?? throw new InvalidOperationException("Start the model host first.");
        return StartAsync(instance, "router", "Mesh.Router", _ => new()
        {
            ["Router__ExperimentFile"] = experiments,
            ["Router__GroupId"] = _group,
            ["Kafka__StaticMembership__InstanceName"] = _group + "-" + instance,
        });
    }

    public Task<ServiceProcess> StartProducerAsync(int records, int rate) =>
        StartAsync("producer", "producer", "Mesh.Producer", _ => new()
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

    // Every service binds its HTTP port itself (port 0) and the test reads it back.
    private async Task<ServiceProcess> StartAsync(string name, string folder, string assembly, Func<LoopbackPorts, Dictionary<string, string>> own)
    {
        var process = await Services.StartBoundAsync(name, folder, assembly, ports =>
        {
            var settings = own(ports);
            settings["Urls"] = LoopbackPorts.Url(0);
            settings.SetMeshEnvironment(kafka.BootstrapServers, topics);
            return settings;
        });
        _processes.Add(process);
        return process;
    }

    /// <summary>Waits until <c>/health</c> at the address the process bound answers 200 (joined, assigned, broker reachable).</summary>
    public static async Task<bool> HealthyAsync(ServiceProcess process, TimeSpan patience)
    {
        if (process.HasExited)
        {
            return false;
        }

        var health = new Uri(process.Url, "/health");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(health);
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
