namespace Mesh.Deploy.Tests.Checks;

/// <summary>One setting a container gets: a literal (from the Deployment or a ConfigMap) or a Secret's key.</summary>
internal sealed record EnvSetting(string Name, string? Value, string Source, string? SecretKey = null);

/// <summary>A service's rendered Deployment, its container and every environment variable it resolves to.</summary>
internal sealed record ServicePod(MeshService Service, ManifestObject Object, V1Deployment Deployment, V1Container Container, IReadOnlyList<EnvSetting> Environment)
{
    public string Id => $"{Object.Id} container {Container.Name}";

    public string? Setting(string name) => Environment.LastOrDefault(e => e.Name == name)?.Value;

    public static ServicePod? Find(ManifestSet set, MeshService service)
    {
        if (set.Find("Deployment", service.Name) is not { } o)
        {
            return null;
        }

        var deployment = BuiltInModels.Deployment(o);
        var container = deployment.Spec.Template.Spec.Containers.Single(c => c.Name == service.Name);
        return new ServicePod(service, o, deployment, container, Resolve(set, container));
    }

    public static IReadOnlyList<EnvSetting> Resolve(ManifestSet set, V1Container container)
    {
        var settings = new List<EnvSetting>();
        foreach (var source in container.EnvFrom ?? [])
        {
            if (source.ConfigMapRef is { } reference)
            {
                var map = set.Find("ConfigMap", reference.Name) ?? throw new InvalidOperationException($"ConfigMap/{reference.Name} is referenced but not rendered");
                foreach (var (key, value) in BuiltInModels.Read<V1ConfigMap>(map).Data ?? new Dictionary<string, string>())
                {
                    settings.Add(new EnvSetting(key, value, $"ConfigMap/{reference.Name}"));
                }
            }
            else if (source.SecretRef is { } secret)
            {
                settings.Add(new EnvSetting("*", null, $"Secret/{secret.Name}"));
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            var secret = variable.ValueFrom?.SecretKeyRef;
            settings.Add(new EnvSetting(variable.Name, variable.Value, secret is null ? "env" : $"Secret/{secret.Name}", secret?.Key));
        }

        return settings;
    }
}
