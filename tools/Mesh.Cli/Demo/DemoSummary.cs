using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Cli.Demo;

/// <summary>The metrics sink's <c>summary.json</c> (docs/internal-contracts.md).</summary>
internal sealed class DemoSummary
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public DateTimeOffset Updated { get; init; }

    public long Predictions { get; init; }

    public long Labels { get; init; }

    public long Joined { get; init; }

    public long DuplicatePredictions { get; init; }

    public long UnmatchedLabels { get; init; }

    public List<ExperimentSummary> Experiments { get; init; } = [];

    public List<ArmDrift> Drift { get; init; } = [];

    public static DemoSummary? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<DemoSummary>(File.ReadAllText(path), s_json) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            // The sink replaces the file atomically, but a read can still race a rename; the next poll succeeds.
            return null;
        }
    }
}

internal sealed class ExperimentSummary
{
    public string Experiment { get; init; } = "";

    public List<ArmSummary> Arms { get; init; } = [];
}

internal sealed class ArmSummary
{
    public string Arm { get; init; } = "";

    public string Model { get; init; } = "";

    public string Version { get; init; } = "";

    public bool Shadow { get; init; }

    public long Predictions { get; init; }

    public long Joined { get; init; }

    public long Correct { get; init; }

    public double Accuracy { get; init; }

    [JsonPropertyName("latencyP50Ms")]
    public double LatencyP50Ms { get; init; }

    [JsonPropertyName("latencyP99Ms")]
    public double LatencyP99Ms { get; init; }

    public long Fallbacks { get; init; }

    public double? ShadowAgreement { get; init; }
}

/// <summary>One arm's drift (the sink's <c>drift[]</c>, docs/drift.md): its features, worst first.</summary>
internal sealed class ArmDrift
{
    public string Experiment { get; init; } = "";

    public string Arm { get; init; } = "";

    public bool Shadow { get; init; }

    public string Reference { get; init; } = "";

    public List<FeatureDrift> Features { get; init; } = [];
}

internal sealed class FeatureDrift
{
    public string Feature { get; init; } = "";

    public double? Psi { get; init; }

    public bool Alert { get; init; }

    public List<double?> History { get; init; } = [];

    public List<bool> AlertHistory { get; init; } = [];
}
