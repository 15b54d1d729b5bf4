namespace Mesh.Deploy.Tests.Checks;

/// <summary>KEDA's view of each scaled service must be the service's own: its group, its topics, its cluster, its partitions.</summary>
internal static class ScalingInvariants
{
    /// <summary>The services that consume as a group and scale on its lag.</summary>
    public static readonly string[] LagScaled = ["router", "consumer", "metrics-sink"];

    public static IEnumerable<string> Keda(ManifestSet set)
    {
        foreach (var name in LagScaled.Where(n => !set.OfKind("ScaledObject").Any(o => Target(o) == n)))
        {
            yield return $"Deployment/{name}: no ScaledObject scales it on its consumer lag";
        }

        foreach (var scaled in set.OfKind("ScaledObject"))
        {
            var target = Target(scaled);
            if (MeshService.All.FirstOrDefault(s => s.Name == target) is not { } service || ServicePod.Find(set, service) is not { } pod)
            {
                yield return $"{scaled.Id}: spec.scaleTargetRef.name '{target}' is not a mesh service's Deployment";
                continue;
            }

            var group = GroupId(pod);
            var topics = Subscriptions(set, pod, out var problem);
            if (problem is not null)
            {
                yield return problem;
            }

            var bootstrap = pod.Setting("Kafka__BootstrapServers");
            var spec = YamlPaths.Mapping(scaled.Root, "spec")!;
            var max = int.Parse(YamlPaths.Scalar(spec, "maxReplicaCount") ?? "100", CultureInfo.InvariantCulture);
            var index = 0;
            foreach (var trigger in YamlPaths.Items(spec, "triggers"))
            {
                var at = $"{scaled.Id}: spec.triggers[{index++}].metadata";
                var metadata = YamlPaths.StringMap(YamlPaths.Mapping(trigger, "metadata"));
                if (YamlPaths.Scalar(trigger, "type") != "kafka")
                {
                    yield return $"{at}: type must be kafka";
                    continue;
                }

                if (metadata.GetValueOrDefault("consumerGroup") != group)
                {
                    yield return $"{at}.consumerGroup '{metadata.GetValueOrDefault("consumerGroup")}' is not {target}'s group '{group}'";
                }

                var topic = metadata.GetValueOrDefault("topic") ?? "";
                if (!topics.Contains(topic))
                {
                    yield return $"{at}.topic '{topic}' is not a topic {target} consumes ({string.Join(", ", topics)})";
                }

                if (metadata.GetValueOrDefault("bootstrapServers") != bootstrap)
                {
                    yield return $"{at}.bootstrapServers '{metadata.GetValueOrDefault("bootstrapServers")}' is not the Kafka__BootstrapServers {target} uses ('{bootstrap}')";
                }

                if (!int.TryParse(metadata.GetValueOrDefault("lagThreshold"), NumberStyles.None, CultureInfo.InvariantCulture, out var lag) || lag <= 0)
                {
                    yield return $"{at}.lagThreshold must be a whole number above 0";
                }

                var partitions = Partitions(set, topic);
                if (partitions is null)
                {
                    yield return $"{at}.topic '{topic}' has no KafkaTopic";
                }
                else if (max > partitions)
                {
                    yield return $"{scaled.Id}: spec.maxReplicaCount {max} is more than the {partitions} partitions of {topic}";
                }
            }
        }
    }

    public static string GroupId(ServicePod pod)
    {
        var section = pod.Service.SectionName!;
        return pod.Setting($"{section}__GroupId") ?? pod.Service.AppSettings()[section]?["GroupId"]?.GetValue<string>() ?? "";
    }

    /// <summary>The topics the service subscribes to, as its code chooses them from its configuration.</summary>
    public static IReadOnlyList<string> Subscriptions(ManifestSet set, ServicePod pod, out string? problem)
    {
        problem = null;
        string Topic(string name) => pod.Setting($"Kafka__Topics__{name}") ?? DefaultTopic(pod.Service, name);
        switch (pod.Service.Name)
        {
            case "router":
                // RouterWorker subscribes to every experiment's input topic (topics.input, else Kafka:Topics:Features).
                var spec = MountedExperimentSpec(set, pod, out problem);
                var inputs = YamlPaths.Items(spec, "experiments")
                    .Select(e => YamlPaths.Scalar(YamlPaths.Mapping(e, "topics"), "input") ?? Topic("Features"))
                    .Distinct().ToList();
                return inputs.Count > 0 ? inputs : [Topic("Features")];
            case "consumer":
                // ConsumerOptions.ResolveTopics: Consumer:Topics, else by Consumer:Source.
                var topics = pod.Setting("Consumer__Topics");
                if (!string.IsNullOrWhiteSpace(topics))
                {
                    return topics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                }

                var source = pod.Setting("Consumer__Source") ?? pod.Service.AppSettings()["Consumer"]?["Source"]?.GetValue<string>() ?? "primary";
                return source.ToLowerInvariant() switch
                {
                    "shadow" => [Topic("ShadowPredictions")],
                    "both" => [Topic("Predictions"), Topic("ShadowPredictions")],
                    _ => [Topic("Predictions")],
                };
            case "metrics-sink":
                // MetricsConsumerWorker subscribes to these four.
                return [Topic("Predictions"), Topic("ShadowPredictions"), Topic("Labels"), Topic("DeadLetter")];
            default:
                return [];
        }
    }

    /// <summary>The experiment spec the router reads: the ConfigMap key mounted at Router__ExperimentFile (or <paramref name="setting"/>).</summary>
    public static YamlMappingNode? MountedExperimentSpec(ManifestSet set, ServicePod pod, out string? problem, string setting = "Router__ExperimentFile") =>
        MountedExperimentSpec(set, pod, setting, out problem, out _);

    /// <summary>As above, and <paramref name="source"/> the ConfigMap and key the file comes from.</summary>
    public static YamlMappingNode? MountedExperimentSpec(ManifestSet set, ServicePod pod, string setting, out string? problem, out string? source)
    {
        problem = null;
        source = null;
        var file = pod.Setting(setting) ?? "";
        var mount = (pod.Container.VolumeMounts ?? []).FirstOrDefault(m => Path.GetDirectoryName(file) == m.MountPath.TrimEnd('/'));
        var volume = pod.Deployment.Spec.Template.Spec.Volumes?.FirstOrDefault(v => v.Name == mount?.Name);
        if (volume?.ConfigMap is not { } configMap || set.Find("ConfigMap", configMap.Name) is not { } map)
        {
            problem = $"{pod.Id}: {setting} '{file}' is not in a mounted ConfigMap volume";
            return null;
        }

        if (mount!.SubPath is { Length: > 0 })
        {
            problem = $"{pod.Id}: volumeMounts[{mount.Name}] uses subPath: the kubelet never updates such a mount, so hot reload would never see a change";
        }

        var data = BuiltInModels.Read<V1ConfigMap>(map).Data;
        if (data?.TryGetValue(Path.GetFileName(file), out var text) != true)
        {
            problem = $"{pod.Id}: ConfigMap/{configMap.Name} has no key '{Path.GetFileName(file)}' for {setting}";
            return null;
        }

        source = $"ConfigMap/{configMap.Name}/{Path.GetFileName(file)}";

        var stream = new YamlStream();
        stream.Load(new StringReader(text!));
        return stream.Documents[0].RootNode as YamlMappingNode;
    }

    public static int? Partitions(ManifestSet set, string topic) =>
        set.OfKind("KafkaTopic")
            .Where(t => (YamlPaths.Scalar(YamlPaths.Mapping(t.Root, "spec"), "topicName") ?? t.Name) == topic)
            .Select(t => (int?)int.Parse(YamlPaths.Scalar(YamlPaths.Mapping(t.Root, "spec"), "partitions")!, CultureInfo.InvariantCulture))
            .FirstOrDefault();

    private static string? Target(ManifestObject scaled) => YamlPaths.Scalar(YamlPaths.At(scaled.Root, "spec", "scaleTargetRef"), "name");

    /// <summary>The code's default topic name (Mesh.Kafka's MeshTopics, read from the service's own build).</summary>
    private static string DefaultTopic(MeshService service, string name)
    {
        var type = ServiceAssemblies.FindType(service, "Mesh.Kafka.MeshTopics") ?? throw new InvalidOperationException($"{service.Name} does not use Mesh.Kafka");
        return (string)type.GetProperty(name)!.GetValue(Activator.CreateInstance(type))!;
    }
}
