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
    int LabelDelayMs,
    string? Redis,
    string? DriftFeature,
    double DriftShift,
    long DriftAfterRecords,
    bool DriftAgainstTraining)
{
    /// <summary>The shadow's model (trained with <c>mesh train --with-candidate</c>); the shadow is left out without it.</summary>
    public const string CandidateModel = "iris-sdca";

    public bool HasCandidate => Directory.Exists(Path.Combine(ModelRepository, CandidateModel));

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
        if (section["Drift:Reference"] is { } reference && reference is not ("training" or "first-records"))
        {
            throw new InvalidOperationException($"Mesh:Drift:Reference must be training or first-records, got '{reference}'.");
        }

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
            section.GetValue("LabelDelayMs", 1000),
            // A Redis (StackExchange configuration string) for the bandit experiment's rewards; without it there is none.
            section["Redis"] is { Length: > 0 } redis ? redis : null,
            section["Drift:Feature"] is { Length: > 0 } feature ? feature : null,
            section.GetValue("Drift:Shift", 1.5),
            section.GetValue("Drift:AfterRecords", 0L),
            // "training" (default): each model's training profile; "first-records": each arm's first records (docs/drift.md).
            !string.Equals(section["Drift:Reference"], "first-records", StringComparison.Ordinal));
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

        if (DriftFeature is not null && (!double.IsFinite(DriftShift) || DriftShift == 0 || DriftAfterRecords < 0))
        {
            throw new InvalidOperationException($"Mesh:Drift needs a non-zero Shift and AfterRecords of 0 or more, got {DriftShift} and {DriftAfterRecords}.");
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
