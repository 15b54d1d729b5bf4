using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace Mesh.AppHost;

/// <summary>
/// What the local stack runs with (section <c>Mesh</c>): where the state of this run lives, the models,
/// the demo load. Ports are picked free on 127.0.0.1 at start, so two stacks never collide.
/// </summary>
internal sealed record MeshStackSettings(
    string RepositoryRoot,
    string StateDir,
    string ModelRepository,
    string DataFile,
    int Partitions,
    int Rate,
    int Count,
    int DurationSeconds,
    int Entities,
    int LabelDelayMs)
{
    public string BootstrapFile => Path.Combine(StateDir, "run", "bootstrap.servers");

    public string TrackingDir => Path.Combine(StateDir, "tracking");

    public string ExperimentFile => Path.Combine(StateDir, "run", "experiments.yaml");

    public string PredictionsFile => Path.Combine(StateDir, "predictions.jsonl");

    public string LogDir => Path.Combine(StateDir, "run", "logs");

    public string EndpointsFile => Path.Combine(StateDir, "run", "endpoints.json");

    public static MeshStackSettings From(IConfiguration configuration, string appHostDirectory)
    {
        var section = configuration.GetSection("Mesh");
        var root = Path.GetFullPath(section["RepositoryRoot"] ?? Path.Combine(appHostDirectory, "..", ".."));
        var state = Path.GetFullPath(section["StateDir"] ?? Path.Combine(root, ".mesh"));
        var models = Path.GetFullPath(section["ModelRepository"] ?? Path.Combine(state, "models"));
        var data = Path.GetFullPath(section["DataFile"] ?? Path.Combine(root, "data", "iris.csv"));
        var settings = new MeshStackSettings(
            root,
            state,
            models,
            data,
            section.GetValue("Partitions", 4),
            section.GetValue("Rate", 200),
            section.GetValue("Count", 0),
            section.GetValue("DurationSeconds", 0),
            section.GetValue("Entities", 500),
            section.GetValue("LabelDelayMs", 1000));
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        if (!Directory.Exists(ModelRepository) || Directory.GetFiles(ModelRepository, "model.onnx", SearchOption.AllDirectories).Length == 0)
        {
            throw new InvalidOperationException(
                $"Mesh:ModelRepository '{ModelRepository}' holds no models: train the demo models first " +
                $"('./build.sh --target=Train' or 'mesh train --output {ModelRepository}').");
        }

        if (!File.Exists(DataFile))
        {
            throw new InvalidOperationException($"Mesh:DataFile '{DataFile}' does not exist.");
        }

        if (Rate <= 0)
        {
            throw new InvalidOperationException($"Mesh:Rate must be positive (records per second), got {Rate}.");
        }
    }

    /// <summary>
    /// A port free on 127.0.0.1 right now. Every service's port must be known before any starts (its endpoint on the
    /// dashboard, its health check, the model host's address in the router's experiment file), so the stack cannot let
    /// the services bind port 0. If another process takes a picked port first, that service fails to bind and says
    /// so in its log; `mesh demo` then starts the AppHost again, which picks new ports (Demo/PortConflict.cs).
    /// </summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
