namespace Mesh.Router.Experiments;

// The experiment YAML as written (docs/internal-contracts.md). Mutable with public setters because YamlDotNet
// fills it; the loader validates it before anything else sees it.

internal sealed class ExperimentSpec
{
    public List<ExperimentDefinition> Experiments { get; set; } = [];
}

internal sealed class ExperimentDefinition
{
    public string Name { get; set; } = "";

    public string Strategy { get; set; } = "";

    public List<ArmDefinition> Arms { get; set; } = [];
}

internal sealed class ArmDefinition
{
    public string Name { get; set; } = "";

    public double Weight { get; set; }

    public string Endpoint { get; set; } = "";

    public string Model { get; set; } = "";

    public string Version { get; set; } = "";
}
