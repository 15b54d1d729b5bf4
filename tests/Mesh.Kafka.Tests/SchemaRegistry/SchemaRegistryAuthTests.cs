namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>
/// The registry's auth settings, as a service binds them from its configuration (environment variables
/// <c>Kafka__SchemaRegistry__...</c>), reach the registry in the headers Confluent's client sends for them.
/// </summary>
public sealed class SchemaRegistryAuthTests
{
    [Fact]
    public async Task RegisterAsync_BasicAuthUserInfoSetting_SendsBasicCredentials()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var options = Bind(registry.Url, new() { ["BasicAuthUserInfo"] = "mesh:s3cret" });

        await RegisterFeaturesAsync(options);

        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("mesh:s3cret")), registry.LastCredentials?.Authorization);
    }

    [Fact]
    public async Task RegisterAsync_StaticBearerTokenSettings_SendsTheTokenLogicalClusterAndIdentityPool()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();
        var options = Bind(registry.Url, new()
        {
            ["BearerAuthCredentialsSource"] = "StaticToken",
            ["BearerAuthToken"] = "token-1",
            ["BearerAuthLogicalCluster"] = "lsrc-1",
            ["BearerAuthIdentityPoolId"] = "pool-1",
        });

        await RegisterFeaturesAsync(options);

        Assert.Equal(new RequestCredentials("Bearer token-1", "lsrc-1", "pool-1"), registry.LastCredentials);
    }

    [Fact]
    public async Task RegisterAsync_NoAuthSettings_SendsNoCredentials()
    {
        await using var registry = await StandInSchemaRegistry.StartAsync();

        await RegisterFeaturesAsync(Bind(registry.Url, []));

        Assert.Equal(new RequestCredentials(null, null, null), registry.LastCredentials);
    }

    private static SchemaRegistryOptions Bind(string url, Dictionary<string, string?> settings)
    {
        var values = settings.ToDictionary(s => $"{SchemaRegistryOptions.SectionName}:{s.Key}", s => s.Value);
        values[$"{SchemaRegistryOptions.SectionName}:Url"] = url;
        var options = new SchemaRegistryOptions();
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(SchemaRegistryOptions.SectionName).Bind(options);
        Assert.Null(options.Validate());
        return options;
    }

    private static async Task RegisterFeaturesAsync(SchemaRegistryOptions options)
    {
        using var client = new CachedSchemaRegistryClient(options.ToClientConfig());
        await new WireFormatWriter(client, options).RegisterAsync(new MeshSchema("features", FeatureRecord.Descriptor), CancellationToken.None);
    }
}
