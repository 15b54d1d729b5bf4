namespace Mesh.Kafka.Tests;

public sealed class StaticMembershipTests
{
    [Fact]
    public void CreateConsumerConfig_Defaults_StaticIdNamingTheGroupAndAShortSession()
    {
        var config = Factory().CreateConsumerConfig("g-defaults", "client");

        Assert.StartsWith("g-defaults-", config.GroupInstanceId, StringComparison.Ordinal);
        Assert.Equal(10_000, config.SessionTimeoutMs);
    }

    [Fact]
    public void CreateConsumerConfig_TwoConsumersOfOneGroupInOneProcess_GetDistinctIds()
    {
        var factory = Factory();

        var first = factory.CreateConsumerConfig("g-twice", "a").GroupInstanceId;
        var second = factory.CreateConsumerConfig("g-twice", "b").GroupInstanceId;

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void CreateConsumerConfig_TwoGroupsOnOneHost_DoNotCollide()
    {
        var factory = Factory(new() { ["Kafka:StaticMembership:InstanceName"] = "pod-1" });

        Assert.Equal("mesh-router-pod-1", factory.CreateConsumerConfig("mesh-router", "r").GroupInstanceId);
        Assert.Equal("mesh-consumer-pod-1", factory.CreateConsumerConfig("mesh-consumer", "c").GroupInstanceId);
    }

    [Fact]
    public void CreateConsumerConfig_ExplicitConsumerSettings_Win()
    {
        var config = Factory(new()
        {
            ["Kafka:Consumer:GroupInstanceId"] = "mine",
            ["Kafka:Consumer:SessionTimeoutMs"] = "30000",
        }).CreateConsumerConfig("g-explicit", "c");

        Assert.Equal("mine", config.GroupInstanceId);
        Assert.Equal(30_000, config.SessionTimeoutMs);
    }

    [Fact]
    public void CreateConsumerConfig_StaticMembershipDisabled_NoInstanceId()
    {
        var config = Factory(new() { ["Kafka:StaticMembership:Enabled"] = "false" }).CreateConsumerConfig("g-off", "c");

        Assert.Null(config.GroupInstanceId);
    }

    [Fact]
    public void ResolveInstanceName_PodName_IsUsedAloneSoARestartedPodReclaimsItsId()
    {
        var name = GroupInstanceId.ResolveInstanceName(null, v => v == "POD_NAME" ? "router-7f9c-0" : "host", processId: 4242);

        Assert.Equal("router-7f9c-0", name);
    }

    [Fact]
    public void ResolveInstanceName_NoPodName_HostAndProcessIdSoLocalReplicasDiffer()
    {
        string? Environment(string v) => v == "HOSTNAME" ? "laptop" : null;

        Assert.Equal("laptop-100", GroupInstanceId.ResolveInstanceName(null, Environment, processId: 100));
        Assert.NotEqual(
            GroupInstanceId.ResolveInstanceName(null, Environment, processId: 100),
            GroupInstanceId.ResolveInstanceName(null, Environment, processId: 101));
    }

    [Fact]
    public void ResolveInstanceName_Configured_WinsOverThePodName()
    {
        Assert.Equal("fixed", GroupInstanceId.ResolveInstanceName(" fixed ", _ => "pod", processId: 1));
    }

    private static KafkaClientFactory Factory(Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Kafka:BootstrapServers"] = "127.0.0.1:9";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = new KafkaOptions();
        configuration.GetSection(KafkaOptions.SectionName).Bind(options);
        return new KafkaClientFactory(Options.Create(options), configuration, NullLoggerFactory.Instance);
    }
}
