namespace Mesh.Deploy.Tests.Services;

/// <summary>One of the five services: where its project, binary and settings are, and its Deployment's name.</summary>
internal sealed record MeshService(string Name, string Folder, string AssemblyName, string? SectionName)
{
    public static readonly IReadOnlyList<MeshService> All =
    [
        new("producer", "producer", "Mesh.Producer", "Producer"),
        new("router", "router", "Mesh.Router", "Router"),
        new("model-host", "model-host", "Mesh.ModelHost", "ModelHost"),
        new("consumer", "consumer", "Mesh.Consumer", "Consumer"),
        new("metrics-sink", "metrics-sink", "Mesh.MetricsSink", "MetricsSink"),
    ];

    public string ProjectFile => Path.Combine(TestRepository.Root, "services", Folder, AssemblyName + ".csproj");

    public string OutputFolder => Path.Combine(TestRepository.Root, "services", Folder, "bin", TestRepository.Configuration, "net10.0");

    public string BinaryPath => Path.Combine(OutputFolder, AssemblyName + ".dll");

    /// <summary>The appsettings.json shipped with the binary (the image has the same file).</summary>
    public JsonObject AppSettings() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestRepository.Root, "services", Folder, "appsettings.json")))!.AsObject();

    /// <summary>A property of the project file (the container settings are plain properties, no conditions).</summary>
    public string? ProjectProperty(string name) =>
        XDocument.Load(ProjectFile).Descendants(name).Select(e => e.Value.Trim()).FirstOrDefault();

    public IReadOnlyList<int> ProjectContainerPorts() =>
        XDocument.Load(ProjectFile).Descendants("ContainerPort").Select(e => int.Parse(e.Attribute("Include")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    public static MeshService ByName(string name) => All.Single(s => s.Name == name);
}
