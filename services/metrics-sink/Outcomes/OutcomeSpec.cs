namespace Mesh.MetricsSink.Outcomes;

// The part of the router's experiment YAML the sink reads (docs/outcomes.md); every other key is skipped. Mutable
// with public setters because YamlDotNet fills it; OutcomeSpecReader validates it before anything else sees it.

internal sealed class OutcomeSpec
{
    public List<OutcomeExperimentSpec> Experiments { get; set; } = [];
}

internal sealed class OutcomeExperimentSpec
{
    public string Name { get; set; } = "";

    public List<OutcomeItemSpec>? Outcomes { get; set; }

    public string? Reward { get; set; }

    public string? Verdict { get; set; }

    public double? VerdictEffectSize { get; set; }
}

internal sealed class OutcomeItemSpec
{
    public string Name { get; set; } = "";

    public string Aggregate { get; set; } = "";

    public double? RewardScale { get; set; }
}
