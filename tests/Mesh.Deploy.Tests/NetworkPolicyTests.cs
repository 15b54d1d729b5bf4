namespace Mesh.Deploy.Tests;

public sealed class NetworkPolicyTests
{
    [Theory]
    [ClassData(typeof(Overlays))]
    public void NetworkPolicies_EveryDeclaredFlow_IsInTheArchitecture(string overlay)
    {
        var set = Kustomize.Render(overlay);
        var network = new NetworkFlows(set);
        var architecture = Architecture.Flows(set, network);

        Failures.None(
            network.Declared().Where(d => !architecture.Contains(d.Flow)).Select(d => $"{d.Policy}: allows {d.Flow}, which is not a flow of the architecture").Distinct(),
            overlay);
    }

    [Theory]
    [ClassData(typeof(Overlays))]
    public void NetworkPolicies_EveryArchitectureFlow_IsAllowed(string overlay)
    {
        var set = Kustomize.Render(overlay);
        var network = new NetworkFlows(set);

        Failures.None(
            Architecture.Flows(set, network).Where(f => !network.Allows(f)).Select(f => $"NetworkPolicy: {f} is a flow of the architecture but the policies deny it"),
            overlay);
    }

    [Fact]
    public void NetworkPolicies_DefaultDeny_DeniesWhatNoPolicyAllows()
    {
        var set = Kustomize.Render("base");
        var network = new NetworkFlows(set);

        Assert.False(network.Allows(new Flow("producer", "model-host", 8081, "TCP")));
        Assert.False(network.Allows(new Flow("consumer", "redis", 6379, "TCP")));
        Assert.False(network.Allows(new Flow("model-host", "kafka", 9092, "TCP")));
        Assert.True(network.Allows(new Flow("router", "model-host", 8081, "TCP")));
    }

    [Fact]
    public void NetworkPolicies_ExtraFlow_FailsNamingThePolicy()
    {
        var set = DeploymentInvariantTests.Broken("NetworkPolicy", "redis-ingress", "app.kubernetes.io/name: metrics-sink", "app.kubernetes.io/name: consumer");
        var network = new NetworkFlows(set);
        var architecture = Architecture.Flows(set, network);

        var extra = network.Declared().Where(d => !architecture.Contains(d.Flow)).Select(d => $"{d.Policy}: {d.Flow}").Distinct().ToList();

        Assert.Equal(["NetworkPolicy/redis-ingress: consumer -> redis:6379/TCP"], extra);
        Assert.False(network.Allows(new Flow("metrics-sink", "redis", 6379, "TCP")));
    }
}
