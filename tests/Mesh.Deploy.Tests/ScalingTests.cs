namespace Mesh.Deploy.Tests;

public sealed class ScalingTests
{
    [Theory]
    [ClassData(typeof(Overlays))]
    public void ScaledObjects_EachOverlay_UseTheServicesGroupTopicsClusterAndPartitions(string overlay) =>
        Failures.None(ScalingInvariants.Keda(Kustomize.Render(overlay)), overlay);

    [Fact]
    public void ScaledObjects_AnotherGroup_FailsNamingTheTrigger()
    {
        var set = DeploymentInvariantTests.Broken("ScaledObject", "consumer", "consumerGroup: mesh-consumer", "consumerGroup: mesh-consumers");

        var failures = ScalingInvariants.Keda(set).ToList();

        Assert.Equal(["ScaledObject/consumer: spec.triggers[0].metadata.consumerGroup 'mesh-consumers' is not consumer's group 'mesh-consumer'"], failures);
    }

    [Fact]
    public void ScaledObjects_MoreReplicasThanPartitions_Fails()
    {
        var set = DeploymentInvariantTests.Broken("ScaledObject", "router", "maxReplicaCount: 12", "maxReplicaCount: 24");

        var failures = ScalingInvariants.Keda(set).ToList();

        Assert.Equal(["ScaledObject/router: spec.maxReplicaCount 24 is more than the 12 partitions of mesh.features.v1"], failures);
    }

    [Fact]
    public void ScaledObjects_TopicTheServiceDoesNotRead_Fails()
    {
        var set = DeploymentInvariantTests.Broken("ScaledObject", "router", "topic: mesh.features.v1", "topic: mesh.labels.v1");

        var failures = ScalingInvariants.Keda(set).ToList();

        Assert.Equal(["ScaledObject/router: spec.triggers[0].metadata.topic 'mesh.labels.v1' is not a topic router consumes (mesh.features.v1)"], failures);
    }

    [Fact]
    public void ExperimentSpec_MountedWithSubPath_FailsBecauseHotReloadWouldNeverSeeAChange()
    {
        var set = DeploymentInvariantTests.Broken("Deployment", "router", "mountPath: /etc/mesh/experiments", "mountPath: /etc/mesh/experiments\n          subPath: experiments.yaml");
        var pod = ServicePod.Find(set, Services.MeshService.ByName("router"))!;

        ScalingInvariants.MountedExperimentSpec(set, pod, out var problem);

        Assert.Equal("Deployment/router container router: volumeMounts[experiments] uses subPath: the kubelet never updates such a mount, so hot reload would never see a change", problem);
    }
}
