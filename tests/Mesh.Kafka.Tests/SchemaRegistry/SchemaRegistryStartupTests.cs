namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>What a service that calls AddMeshSchemaRegistry does at start.</summary>
public sealed class SchemaRegistryStartupTests
{
    [Fact]
    public async Task Start_RegistryDown_FailsNamingTheUrlSetting()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();
        using var host = Build(url, k => [new(k.Topics.Features, FeatureRecord.Descriptor)]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("Kafka:SchemaRegistry:Url: the schema registry at", failure);
        Assert.Contains(url, failure);
    }

    [Fact]
    public async Task Validate_RegistryDown_RefusesBeforeTheHostStartsWithTheCauseNotTheClientsExceptionText()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();
        using var host = Build(url, null);

        // What ServiceRunner.RunService calls before it runs the host: a refusal here is one line, no host failure.
        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        var failure = Assert.Single(error.Failures);
        Assert.Equal($"Kafka:SchemaRegistry:Url: the schema registry at '{url}' did not answer: Connection refused", failure);
    }

    [Fact]
    public async Task Start_ReaderOnlyAndRegistryDown_FailsNamingTheUrlSetting()
    {
        var registry = await StandInSchemaRegistry.StartAsync();
        var url = registry.Url;
        await registry.DisposeAsync();
        using var host = Build(url, null);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("Kafka:SchemaRegistry:Url:", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task Start_UrlNotHttp_FailsNamingTheUrlSetting()
    {
        using var host = Build("registry:8081", null);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("Kafka:SchemaRegistry:Url:", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task Start_WriterWithIncompatibleSchema_FailsBeforeWritingWithTheRegistrysReason()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using (var first = Build(registry.Url, k => [new(k.Topics.Features, FeatureRecord.Descriptor)]))
        {
            await first.StartAsync();
            await first.StopAsync();
        }

        using var host = Build(registry.Url, k => [new(k.Topics.Features, EvolvedContracts.FeatureRecordWithStringValues())]);

        var error = await Assert.ThrowsAsync<SchemaRegistrationException>(() => host.StartAsync());

        Assert.Equal("mesh.features.v1-value", error.Subject);
        Assert.Contains("incompatible", error.Message);
    }

    [Fact]
    public async Task Start_WriterWithRegistry_RegistersEveryDeclaredTopicSoEncodingAsksNothing()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        using var host = Build(registry.Url, k => MeshSchemaCatalog.For(k.Topics));

        await host.StartAsync();
        var requests = registry.Requests;
        var writer = host.Services.GetRequiredService<WireFormatWriter>();
        writer.Encode("mesh.predictions.v1", new Prediction { RequestId = "r" });
        await host.StopAsync();

        Assert.Equal(requests, registry.Requests);
        Assert.Contains("mesh.dead-letter.v1-value", registry.Store.Subjects());
        Assert.Contains("mesh.labels.v1-value", registry.Store.Subjects());
    }

    private static IHost Build(string url, Func<KafkaOptions, IEnumerable<MeshSchema>>? written)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["Kafka:SchemaRegistry:Url"] = url;
        builder.Configuration["Kafka:SchemaRegistry:MaxRetries"] = "1";
        builder.Services.AddOptions<KafkaOptions>();
        builder.AddMeshSchemaRegistry(written);
        return builder.Build();
    }
}
