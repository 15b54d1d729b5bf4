using System.ComponentModel.DataAnnotations;

namespace Mesh.Router.Experiments.Dapr;

/// <summary>Where the experiment spec comes from (configuration section <c>Router:Experiments</c>).</summary>
internal sealed class ExperimentSourceOptions
{
    public const string SectionName = "Router:Experiments";

    public const string FileSource = "File";

    public const string DaprSource = "Dapr";

    /// <summary><c>File</c> (Router:ExperimentFile, polled) or <c>Dapr</c> (the Dapr configuration API).</summary>
    [RegularExpression("^(File|Dapr)$", ErrorMessage = "Router:Experiments:Source must be File or Dapr.")]
    public string Source { get; set; } = FileSource;

    public DaprSourceOptions Dapr { get; set; } = new();

    public bool IsDapr => string.Equals(Source, DaprSource, StringComparison.Ordinal);
}

/// <summary>The Dapr configuration store that holds the spec (<c>Router:Experiments:Dapr</c>).</summary>
internal sealed class DaprSourceOptions
{
    /// <summary>The configuration store Component's name.</summary>
    public string Store { get; set; } = "";

    /// <summary>The key whose value is the whole experiment YAML.</summary>
    public string Key { get; set; } = "experiments";

    /// <summary>The sidecar's gRPC endpoint; empty uses Dapr's defaults (DAPR_GRPC_ENDPOINT, else 127.0.0.1:50001).</summary>
    public string? GrpcEndpoint { get; set; }

    /// <summary>How long the router waits at start for the sidecar to answer (the injector may start it after the app).</summary>
    [Range(0, 600)]
    public int StartWaitSeconds { get; set; } = 30;

    /// <summary>How long to wait before subscribing again after the sidecar went away.</summary>
    [Range(10, 600_000)]
    public int ResubscribeMs { get; set; } = 2000;

    /// <summary>
    /// Where the last good spec is kept: Router:ExperimentFile points here, so a change from the store is applied
    /// exactly as a file change is (polled, validated, the last good spec kept on an error).
    /// </summary>
    public string SpecFile { get; set; } = Path.Combine(Path.GetTempPath(), "mesh-router", "dapr-experiments.yaml");
}
