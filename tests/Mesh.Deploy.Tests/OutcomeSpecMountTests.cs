namespace Mesh.Deploy.Tests;

/// <summary>The metrics sink reads each experiment's declared outcomes from the router's spec (docs/outcomes.md): the same ConfigMap, mounted.</summary>
public sealed class OutcomeSpecMountTests
{
    [Theory]
    [ClassData(typeof(Overlays))]
    public void ExperimentFile_MetricsSink_IsTheExperimentsConfigMapMounted(string overlay)
    {
        var set = Kustomize.Render(overlay);
        var sink = ServicePod.Find(set, MeshService.ByName("metrics-sink"))!;

        var spec = ScalingInvariants.MountedExperimentSpec(set, sink, "MetricsSink__ExperimentFile", out var problem, out var source);

        Assert.Null(problem);
        Assert.NotNull(spec);
        Assert.Equal("ConfigMap/mesh-experiments/experiments.yaml", source);
    }

    [Fact]
    public void ExperimentFile_Base_SinkAndRouterReadTheSameSpec()
    {
        var set = Kustomize.Render("base");

        ScalingInvariants.MountedExperimentSpec(set, ServicePod.Find(set, MeshService.ByName("router"))!, "Router__ExperimentFile", out _, out var router);
        ScalingInvariants.MountedExperimentSpec(set, ServicePod.Find(set, MeshService.ByName("metrics-sink"))!, "MetricsSink__ExperimentFile", out _, out var sink);

        Assert.Equal(router, sink);
    }

    [Fact]
    public void ExperimentFile_SinkWithoutTheMount_FailsNamingTheSetting()
    {
        var set = DeploymentInvariantTests.Broken("Deployment", "metrics-sink", "mountPath: /etc/mesh/experiments", "mountPath: /etc/mesh/elsewhere");
        var sink = ServicePod.Find(set, MeshService.ByName("metrics-sink"))!;

        ScalingInvariants.MountedExperimentSpec(set, sink, "MetricsSink__ExperimentFile", out var problem, out _);

        Assert.Equal("Deployment/metrics-sink container metrics-sink: MetricsSink__ExperimentFile '/etc/mesh/experiments/experiments.yaml' is not in a mounted ConfigMap volume", problem);
    }
}
