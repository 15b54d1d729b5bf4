namespace Mesh.Cli.Tests;

/// <summary><c>mesh schemas check|register</c> against the stand-in registry, through Confluent's real client.</summary>
public sealed class SchemasCommandTests
{
    private static readonly IReadOnlyList<MeshSchema> s_mesh = MeshSchemaCatalog.For(new MeshTopics());

    [Fact]
    public async Task Check_EmptyRegistry_ListsEveryMeshSubjectAsNewAndSucceeds()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var client = Client(registry.Url);
        var output = new StringWriter();

        var exit = await SchemaContractCheck.RunAsync(client, s_mesh, SubjectNameStrategy.Topic, register: false, output, CancellationToken.None);

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("SUBJECT", lines[0]);
        Assert.Equal(6, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("mesh.features.v1-value", StringComparison.Ordinal) && l.Contains("mesh.v1.FeatureRecord") && l.TrimEnd().EndsWith("new", StringComparison.Ordinal));
        Assert.Empty(registry.Store.Subjects());
    }

    [Fact]
    public async Task Register_ThenCheck_EverySubjectAtVersionOneUnderBackward()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var client = Client(registry.Url);

        var registered = await SchemaContractCheck.RunAsync(client, s_mesh, SubjectNameStrategy.Topic, register: true, new StringWriter(), CancellationToken.None);
        var output = new StringWriter();
        var checkedAgain = await SchemaContractCheck.RunAsync(client, s_mesh, SubjectNameStrategy.Topic, register: false, output, CancellationToken.None);

        Assert.Equal((0, 0), (registered, checkedAgain));
        Assert.Contains("mesh.dead-letter.v1-value", registry.Store.Subjects());
        var rows = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        Assert.Equal(5, rows.Length);
        Assert.All(rows, r => Assert.Matches(@"\s1\s+\d+\s+BACKWARD\s+registered$", r.TrimEnd()));
    }

    [Fact]
    public async Task Check_FieldTypeChanged_MarksTheSubjectIncompatibleAndExitsOne()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var client = Client(registry.Url);
        await SchemaContractCheck.RunAsync(client, s_mesh, SubjectNameStrategy.Topic, register: true, new StringWriter(), CancellationToken.None);
        registry.Store.SetCompatibility("mesh.features.v1-value", "FULL");
        var changed = s_mesh.Select(s => s.Descriptor == FeatureRecord.Descriptor ? s with { Descriptor = EvolvedContracts.FeatureRecordWithStringValues() } : s).ToArray();
        var output = new StringWriter();

        var exit = await SchemaContractCheck.RunAsync(client, changed, SubjectNameStrategy.Topic, register: true, output, CancellationToken.None);

        Assert.Equal(SchemaContractCheck.Incompatible, exit);
        var features = output.ToString().Split('\n').Single(l => l.StartsWith("mesh.features.v1-value", StringComparison.Ordinal));
        Assert.Matches(@"\s1\s+\d+\s+FULL\s+INCOMPATIBLE$", features.TrimEnd());
        Assert.Contains("nothing was registered", output.ToString());
        Assert.Equal([1], registry.Store.Versions("mesh.features.v1-value"));
    }

    [Fact]
    public async Task Register_FieldAdded_RegistersVersionTwo()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var client = Client(registry.Url);
        await SchemaContractCheck.RunAsync(client, s_mesh, SubjectNameStrategy.Topic, register: true, new StringWriter(), CancellationToken.None);
        var changed = s_mesh.Select(s => s.Descriptor == FeatureRecord.Descriptor ? s with { Descriptor = EvolvedContracts.FeatureRecordWithSource() } : s).ToArray();
        var output = new StringWriter();

        var exit = await SchemaContractCheck.RunAsync(client, changed, SubjectNameStrategy.Topic, register: true, output, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Equal([1, 2], registry.Store.Versions("mesh.features.v1-value"));
        Assert.Contains(output.ToString().Split('\n'), l => l.StartsWith("mesh.features.v1-value", StringComparison.Ordinal) && l.TrimEnd().EndsWith("registered now", StringComparison.Ordinal) && l.Contains(" 2 "));
    }

    [Fact]
    public async Task Check_RegistryDown_Exits78NamingTheUrlOption()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();
        using var client = Client(url);
        var output = new StringWriter();

        var exit = await SchemaContractCheck.RunAsync(client, s_mesh, SubjectNameStrategy.Topic, register: false, output, CancellationToken.None);

        Assert.Equal(78, exit);
        Assert.StartsWith("error: --url:", output.ToString());
    }

    private static CachedSchemaRegistryClient Client(string url) =>
        new(new SchemaRegistryOptions { Url = url, MaxRetries = 1 }.ToClientConfig());
}
