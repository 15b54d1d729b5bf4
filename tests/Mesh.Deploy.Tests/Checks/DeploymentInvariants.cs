namespace Mesh.Deploy.Tests.Checks;

/// <summary>What a reviewer would check by eye in each service's Deployment; every failure names the object and field.</summary>
internal static class DeploymentInvariants
{
    /// <summary>The endpoints Mesh.ServiceDefaults maps in every service (MapDefaultEndpoints).</summary>
    public const string ReadinessPath = "/health";

    public const string LivenessPath = "/alive";

    /// <summary>The host's default shutdown timeout (HostOptions.ShutdownTimeout): the longest a service drains.</summary>
    public const int DrainSeconds = 30;

    private static readonly string[] s_secretWords = ["token", "password", "secret", "apikey"];

    public static IEnumerable<string> Probes(ServicePod pod)
    {
        var c = pod.Container;
        foreach (var (name, probe, path) in new[] { ("startupProbe", c.StartupProbe, ReadinessPath), ("readinessProbe", c.ReadinessProbe, ReadinessPath), ("livenessProbe", c.LivenessProbe, LivenessPath) })
        {
            if (probe?.HttpGet is not { } get)
            {
                yield return $"{pod.Id}: {name} must be an httpGet probe on {path}";
                continue;
            }

            if (get.Path != path)
            {
                yield return $"{pod.Id}: {name}.httpGet.path is '{get.Path}', but the service serves {path} for it";
            }

            if (ResolvePort(c, get.Port) is null)
            {
                yield return $"{pod.Id}: {name}.httpGet.port '{get.Port}' is not a port of the container";
            }
        }
    }

    public static IEnumerable<string> Ports(ServicePod pod)
    {
        var declared = (pod.Container.Ports ?? []).Select(p => p.ContainerPort).Order().ToList();
        var listening = new List<int>();
        foreach (var setting in pod.Environment.Where(e => e.Name == "Urls" || (e.Name.StartsWith("Kestrel__Endpoints__", StringComparison.Ordinal) && e.Name.EndsWith("__Url", StringComparison.Ordinal))))
        {
            foreach (var url in (setting.Value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var uri = new Uri(url.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
                if (uri.Host is "127.0.0.1" or "localhost" or "::1")
                {
                    yield return $"{pod.Id}: {setting.Name} ({setting.Source}) listens on {uri.Host}: nothing outside the pod can reach it";
                }

                listening.Add(uri.Port);
            }
        }

        if (listening.Count == 0)
        {
            yield return $"{pod.Id}: no Urls or Kestrel__Endpoints__*__Url set: the service would listen on its appsettings.json address (127.0.0.1)";
        }

        if (!listening.Order().SequenceEqual(declared))
        {
            yield return $"{pod.Id}: ports[].containerPort [{string.Join(", ", declared)}] differ from the Kestrel URLs the configuration sets [{string.Join(", ", listening.Order())}]";
        }

        var project = pod.Service.ProjectContainerPorts().Order().ToList();
        if (!project.SequenceEqual(declared))
        {
            yield return $"{pod.Id}: ports[].containerPort [{string.Join(", ", declared)}] differ from the ContainerPort items of {Path.GetFileName(pod.Service.ProjectFile)} [{string.Join(", ", project)}]";
        }
    }

    public static IEnumerable<string> ConfigurationKeys(ServicePod pod, BoundConfiguration bound)
    {
        foreach (var setting in pod.Environment.Where(e => e.Name != "*"))
        {
            if (!bound.Binds(setting.Name))
            {
                yield return $"{pod.Id}: env {setting.Name} (from {setting.Source}) is not a setting {pod.Service.Name} binds";
            }
        }
    }

    public static IEnumerable<string> SecretsNotInline(ServicePod pod)
    {
        foreach (var setting in pod.Environment)
        {
            var lower = setting.Name.ToLowerInvariant();
            if (setting.Source.StartsWith("Secret/", StringComparison.Ordinal) || !s_secretWords.Any(lower.Contains))
            {
                continue;
            }

            // A username is not secret; SaslUsername names the user whose password is in the Secret.
            if (!lower.EndsWith("username", StringComparison.Ordinal))
            {
                yield return $"{pod.Id}: env {setting.Name} is set inline (from {setting.Source}); it must come from a Secret (valueFrom.secretKeyRef)";
            }
        }
    }

    public static IEnumerable<string> Hardening(ServicePod pod)
    {
        var spec = pod.Deployment.Spec.Template.Spec;
        var c = pod.Container;
        if (spec.AutomountServiceAccountToken != false)
        {
            yield return $"{pod.Object.Id}: spec.template.spec.automountServiceAccountToken must be false";
        }

        if (spec.SecurityContext?.RunAsNonRoot != true && c.SecurityContext?.RunAsNonRoot != true)
        {
            yield return $"{pod.Id}: securityContext.runAsNonRoot must be true";
        }

        if ((c.SecurityContext?.RunAsUser ?? spec.SecurityContext?.RunAsUser) is { } uid &&
            uid.ToString(CultureInfo.InvariantCulture) != pod.Service.ProjectProperty("ContainerUser"))
        {
            yield return $"{pod.Id}: securityContext.runAsUser {uid} is not the image's ContainerUser {pod.Service.ProjectProperty("ContainerUser")}";
        }

        if (c.SecurityContext?.ReadOnlyRootFilesystem != true)
        {
            yield return $"{pod.Id}: securityContext.readOnlyRootFilesystem must be true";
        }

        if (c.SecurityContext?.AllowPrivilegeEscalation != false)
        {
            yield return $"{pod.Id}: securityContext.allowPrivilegeEscalation must be false";
        }

        if (c.SecurityContext?.Capabilities?.Drop?.Contains("ALL") != true)
        {
            yield return $"{pod.Id}: securityContext.capabilities.drop must contain ALL";
        }

        if ((c.SecurityContext?.SeccompProfile ?? spec.SecurityContext?.SeccompProfile)?.Type != "RuntimeDefault")
        {
            yield return $"{pod.Id}: securityContext.seccompProfile.type must be RuntimeDefault";
        }

        if (c.VolumeMounts?.Any(m => m.MountPath == "/tmp") != true)
        {
            yield return $"{pod.Id}: volumeMounts has no /tmp: with a read-only root filesystem .NET needs a writable /tmp";
        }

        if (c.Resources?.Requests is not { } requests || !requests.ContainsKey("cpu") || !requests.ContainsKey("memory"))
        {
            yield return $"{pod.Id}: resources.requests must set cpu and memory";
        }

        if (c.Resources?.Limits is not { } limits || !limits.ContainsKey("memory"))
        {
            yield return $"{pod.Id}: resources.limits must set memory";
        }

        if (!(spec.TerminationGracePeriodSeconds > DrainSeconds))
        {
            yield return $"{pod.Object.Id}: spec.template.spec.terminationGracePeriodSeconds {spec.TerminationGracePeriodSeconds} must be longer than the {DrainSeconds} s drain";
        }
    }

    /// <summary>The ServiceAccount, Service, PodDisruptionBudget and ServiceMonitor each service needs.</summary>
    public static IEnumerable<string> Companions(ManifestSet set, ServicePod pod)
    {
        var name = pod.Service.Name;
        var labels = pod.Deployment.Spec.Template.Metadata.Labels;
        var account = set.Find("ServiceAccount", pod.Deployment.Spec.Template.Spec.ServiceAccountName ?? "");
        if (account is null || BuiltInModels.Read<V1ServiceAccount>(account).AutomountServiceAccountToken != false)
        {
            yield return $"{pod.Object.Id}: spec.template.spec.serviceAccountName must name a rendered ServiceAccount with automountServiceAccountToken false";
        }

        if (set.Find("Service", name) is not { } service)
        {
            yield return $"{pod.Object.Id}: no Service/{name}";
        }
        else
        {
            var model = BuiltInModels.Read<V1Service>(service);
            if (!model.Spec.Selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value))
            {
                yield return $"Service/{name}: spec.selector does not select the pods of {pod.Object.Id}";
            }

            foreach (var port in model.Spec.Ports.Where(p => ResolvePort(pod.Container, p.TargetPort) is null))
            {
                yield return $"Service/{name}: spec.ports[{port.Name}].targetPort '{port.TargetPort}' is not a port of {pod.Id}";
            }
        }

        var budgets = set.OfKind("PodDisruptionBudget").Select(BuiltInModels.Read<V1PodDisruptionBudget>)
            .Where(b => b.Spec.Selector.MatchLabels.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value));
        if (!budgets.Any())
        {
            yield return $"{pod.Object.Id}: no PodDisruptionBudget selects its pods";
        }

        if (set.Find("ServiceMonitor", name) is not { } monitor ||
            YamlPaths.Items(YamlPaths.Mapping(monitor.Root, "spec"), "endpoints").All(e => YamlPaths.Scalar(e, "path") != "/metrics" || ResolvePort(pod.Container, YamlPaths.Scalar(e, "port")) is null))
        {
            yield return $"{pod.Object.Id}: no ServiceMonitor/{name} scraping /metrics on one of its ports";
        }
    }

    public static IEnumerable<string> Image(ServicePod pod)
    {
        var repository = pod.Service.ProjectProperty("ContainerRepository");
        var image = pod.Container.Image ?? "";
        var name = image.Split('@')[0];
        var lastSlash = name.LastIndexOf('/');
        var colon = name.IndexOf(':', lastSlash + 1);
        var path = colon < 0 ? name : name[..colon];
        if (repository is null || path.Split('/')[^1] != repository)
        {
            yield return $"{pod.Id}: image '{image}' is not the project's ContainerRepository '{repository}'";
        }
    }

    private static V1ContainerPort? ResolvePort(V1Container container, IntOrString? port) =>
        port is null ? null : ResolvePort(container, port.Value);

    private static V1ContainerPort? ResolvePort(V1Container container, string? port) =>
        (container.Ports ?? []).FirstOrDefault(p => p.Name == port || p.ContainerPort.ToString(CultureInfo.InvariantCulture) == port);
}
