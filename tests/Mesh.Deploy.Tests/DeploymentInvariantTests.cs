namespace Mesh.Deploy.Tests;

public sealed class DeploymentInvariantTests
{
    [Theory]
    [ClassData(typeof(Overlays))]
    public void Probes_EachService_PointAtTheEndpointsItServes(string overlay) =>
        Failures.None(Pods(overlay).SelectMany(DeploymentInvariants.Probes), overlay);

    [Theory]
    [ClassData(typeof(Overlays))]
    public void ContainerPorts_EachService_MatchTheKestrelUrlsTheConfigurationSets(string overlay) =>
        Failures.None(Pods(overlay).SelectMany(DeploymentInvariants.Ports), overlay);

    [Theory]
    [ClassData(typeof(Overlays))]
    public void EnvironmentVariables_EachService_AreSettingsTheServiceBinds(string overlay) =>
        Failures.None(Pods(overlay).SelectMany(p => DeploymentInvariants.ConfigurationKeys(p, BoundConfiguration.For(p.Service))), overlay);

    [Theory]
    [ClassData(typeof(Overlays))]
    public void Secrets_EachService_ComeFromSecretsNeverInline(string overlay) =>
        Failures.None(Pods(overlay).SelectMany(DeploymentInvariants.SecretsNotInline), overlay);

    [Theory]
    [ClassData(typeof(Overlays))]
    public void Hardening_EachService_NonRootReadOnlyNoCapabilitiesSeccompResourcesGrace(string overlay) =>
        Failures.None(Pods(overlay).SelectMany(DeploymentInvariants.Hardening), overlay);

    [Theory]
    [ClassData(typeof(Overlays))]
    public void Companions_EachService_HasServiceAccountServicePdbAndServiceMonitor(string overlay)
    {
        var set = Kustomize.Render(overlay);
        Failures.None(Pods(overlay).SelectMany(p => DeploymentInvariants.Companions(set, p)), overlay);
    }

    [Theory]
    [ClassData(typeof(Overlays))]
    public void Images_EachService_AreTheProjectsContainerRepository(string overlay) =>
        Failures.None(Pods(overlay).SelectMany(DeploymentInvariants.Image), overlay);

    [Fact]
    public void ConfigurationKeys_MisspeltRouterSetting_FailsNamingTheVariableAndConfigMap()
    {
        var set = Broken("ConfigMap", "mesh-router-settings", "Router__ExperimentFile:", "Router__ExperimentFiel:");
        var router = ServicePod.Find(set, MeshService.ByName("router"))!;

        var failures = DeploymentInvariants.ConfigurationKeys(router, BoundConfiguration.For(router.Service)).ToList();

        Assert.Equal(["Deployment/router container router: env Router__ExperimentFiel (from ConfigMap/mesh-router-settings) is not a setting router binds"], failures);
    }

    [Fact]
    public void ConfigurationKeys_NestedAndListSettings_AreBound()
    {
        var modelHost = BoundConfiguration.For(MeshService.ByName("model-host"));
        var router = BoundConfiguration.For(MeshService.ByName("router"));

        Assert.True(modelHost.Binds("ModelHost__Mlflow__Models__3__Uri"));
        Assert.True(router.Binds("Kafka__Consumer__SessionTimeoutMs"));
        Assert.True(router.Binds("router__circuitbreaker__breakms"));
        Assert.False(modelHost.Binds("Kafka__BootstrapServers"));
        Assert.False(router.Binds("Kafka__Consumer__SessionTimeoutMillis"));
        Assert.False(router.Binds("Router__Batching"));
    }

    [Fact]
    public void Probes_WrongPath_FailsNamingTheProbe()
    {
        var set = Broken("Deployment", "consumer", "path: /alive", "path: /live");
        var failures = DeploymentInvariants.Probes(ServicePod.Find(set, MeshService.ByName("consumer"))!).ToList();

        Assert.Equal(["Deployment/consumer container consumer: livenessProbe.httpGet.path is '/live', but the service serves /alive for it"], failures);
    }

    [Fact]
    public void Ports_UrlOnAnotherPort_FailsNamingBoth()
    {
        var set = Broken("ConfigMap", "mesh-metrics-sink-settings", "http://0.0.0.0:8095", "http://0.0.0.0:9095");
        var failures = DeploymentInvariants.Ports(ServicePod.Find(set, MeshService.ByName("metrics-sink"))!).ToList();

        Assert.Equal(["Deployment/metrics-sink container metrics-sink: ports[].containerPort [8095] differ from the Kestrel URLs the configuration sets [9095]"], failures);
    }

    [Fact]
    public void ContainerSettings_EachServiceProject_DeclaresRepositoryChiseledBaseNonRootUserAndPorts()
    {
        foreach (var service in MeshService.All)
        {
            Assert.Equal("mesh-" + service.Name, service.ProjectProperty("ContainerRepository"));
            Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", service.ProjectProperty("ContainerBaseImage"));
            Assert.True(int.TryParse(service.ProjectProperty("ContainerUser"), out var uid) && uid > 0, $"{service.ProjectFile}: ContainerUser must be a non-root numeric UID");
            Assert.NotEmpty(service.ProjectContainerPorts());
        }
    }

    internal static IEnumerable<ServicePod> Pods(string overlay)
    {
        var set = Kustomize.Render(overlay);
        return MeshService.All.Select(s => ServicePod.Find(set, s)).OfType<ServicePod>();
    }

    internal static ManifestSet Broken(string kind, string name, string from, string to)
    {
        var set = Kustomize.Render("base");
        var original = set.Find(kind, name)!;
        Assert.Contains(from, original.Yaml);
        return set.With(ManifestSet.ParseObject(original.Yaml.Replace(from, to, StringComparison.Ordinal)));
    }
}
