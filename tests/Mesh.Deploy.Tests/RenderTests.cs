namespace Mesh.Deploy.Tests;

public sealed class RenderTests
{
    [Theory]
    [ClassData(typeof(Overlays))]
    public void Kustomize_EachOverlay_RendersTheWholeMesh(string overlay)
    {
        var set = Kustomize.Render(overlay);

        foreach (var name in new[] { "producer", "router", "model-host", "consumer", "metrics-sink", "redis" })
        {
            Assert.True(set.Find("Deployment", name) is not null, $"{overlay}: no Deployment/{name}");
        }

        Assert.Single(set.OfKind("Kafka"));
        Assert.Equal(
            ["mesh.dead-letter.v1", "mesh.features.v1", "mesh.labels.v1", "mesh.predictions.v1", "mesh.shadow-predictions.v1"],
            set.OfKind("KafkaTopic").Select(t => YamlPaths.Scalar(YamlPaths.Mapping(t.Root, "spec"), "topicName")).Order());
    }

    [Theory]
    [ClassData(typeof(Overlays))]
    public void Objects_EachOverlay_AreBuiltInOrHaveACrdTable(string overlay)
    {
        var unknown = Kustomize.Render(overlay).Objects
            .Where(o => !BuiltInModels.IsBuiltIn(o) && !CrdFields.IsCustom(o))
            .Select(o => $"{o.Id}: {o.ApiVersion} {o.Kind} is neither a built-in kind these tests check nor a custom resource with a field table");

        Failures.None(unknown, overlay);
    }

    [Theory]
    [ClassData(typeof(Overlays))]
    public void BuiltInObjects_EachOverlay_DeserializeStrictly(string overlay)
    {
        var failures = Kustomize.Render(overlay).Objects.Where(BuiltInModels.IsBuiltIn).Select(BuiltInModels.Check).OfType<string>();

        Failures.None(failures, overlay);
    }

    [Fact]
    public void BuiltInModels_MisspeltField_FailsNamingTheObjectAndField()
    {
        var deployment = Kustomize.Render("base").Find("Deployment", "router")!;
        var broken = ManifestSet.ParseObject(deployment.Yaml.Replace("livenessProbe:", "livenesProbe:", StringComparison.Ordinal));

        var failure = BuiltInModels.Check(broken);

        Assert.NotNull(failure);
        Assert.Contains("Deployment/router", failure);
        Assert.Contains("livenesProbe", failure);
    }

    [Theory]
    [ClassData(typeof(Overlays))]
    public void CustomResources_EachOverlay_UseOnlyFieldsTheirCrdsDefine(string overlay)
    {
        var failures = Kustomize.Render(overlay).Objects.Where(CrdFields.IsCustom).SelectMany(CrdFields.Check);

        Failures.None(failures, overlay);
    }

    [Fact]
    public void CrdFields_MisspeltScaledObjectField_FailsNamingThePath()
    {
        var scaled = Kustomize.Render("base").Find("ScaledObject", "router")!;
        var broken = ManifestSet.ParseObject(scaled.Yaml.Replace("maxReplicaCount:", "maxReplicas:", StringComparison.Ordinal));

        var failures = CrdFields.Check(broken).ToList();

        Assert.Equal(["ScaledObject/router: field 'spec.maxReplicas' is not defined by the keda.sh/v1alpha1 ScaledObject CRD"], failures);
    }
}
