namespace Mesh.Deploy.Tests.Launch;

/// <summary>
/// What the kubelet would run for a rendered container, translated to this machine: the image's entrypoint
/// (<c>dotnet /app/&lt;assembly&gt;.dll</c>) with the container's command and args, its environment resolved from
/// ConfigMaps and Secrets, each ConfigMap volume written as the kubelet writes it into a temporary folder (other
/// volumes as empty folders), and cluster addresses replaced by local ones (the embedded broker, a redis-server,
/// 127.0.0.1 on ports picked free instead of 0.0.0.0; see <see cref="RunningPod.StartAsync"/> for when one is taken
/// first). Nothing else is changed.
/// </summary>
internal sealed partial class PodLaunch
{
    private PodLaunch(ServicePod pod, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<int, int> ports, IReadOnlyDictionary<string, ConfigMapDirectory> configMaps)
    {
        Pod = pod;
        Arguments = arguments;
        Environment = environment;
        Ports = ports;
        ConfigMaps = configMaps;
    }

    public ServicePod Pod { get; }

    public IReadOnlyList<string> Arguments { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Container port to the local port it listens on here.</summary>
    public IReadOnlyDictionary<int, int> Ports { get; }

    /// <summary>The ConfigMap volumes by mount path, to update them as the kubelet does.</summary>
    public IReadOnlyDictionary<string, ConfigMapDirectory> ConfigMaps { get; }

    public static PodLaunch Build(ManifestSet set, ServicePod pod, string workFolder, LoopbackPorts localPorts, IReadOnlyDictionary<string, string> addresses, Func<string, bool>? drop = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var ports = (pod.Container.Ports ?? []).ToDictionary(p => p.ContainerPort, _ => localPorts.Next());
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        var configMaps = new Dictionary<string, ConfigMapDirectory>(StringComparer.Ordinal);
        foreach (var mount in pod.Container.VolumeMounts ?? [])
        {
            var local = Path.Combine(workFolder, mount.Name);
            mounts[mount.MountPath.TrimEnd('/')] = local;
            var volume = pod.Deployment.Spec.Template.Spec.Volumes.Single(v => v.Name == mount.Name);
            if (volume.ConfigMap is { } source)
            {
                var data = BuiltInModels.Read<V1ConfigMap>(set.Find("ConfigMap", source.Name)!).Data;
                var directory = new ConfigMapDirectory(local);
                directory.Write(data.ToDictionary(d => d.Key, d => Translate(d.Value, mounts, ports, addresses)));
                configMaps[mount.MountPath.TrimEnd('/')] = directory;
            }
            else
            {
                Directory.CreateDirectory(local);
            }
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var setting in pod.Environment.Where(e => drop?.Invoke(e.Name) != true))
        {
            var value = setting.SecretKey is { } key ? SecretValue(set, setting.Source["Secret/".Length..], key) : setting.Value ?? "";
            environment[setting.Name] = Translate(value, mounts, ports, addresses);
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        // The image's entrypoint is `dotnet /app/<assembly>.dll`; a container command would replace it.
        var arguments = pod.Container.Command is { Count: > 0 } command ? [.. command.Skip(1)] : new List<string> { pod.Service.BinaryPath };
        arguments.AddRange(pod.Container.Args ?? []);
        return new PodLaunch(pod, arguments, environment, ports, configMaps);
    }

    public string LocalUrl(string portName, string path)
    {
        var port = (Pod.Container.Ports ?? []).Single(p => p.Name == portName || p.ContainerPort.ToString(CultureInfo.InvariantCulture) == portName);
        return $"http://127.0.0.1:{Ports[port.ContainerPort].ToString(CultureInfo.InvariantCulture)}{path}";
    }

    private static string SecretValue(ManifestSet set, string name, string key)
    {
        var secret = set.Find("Secret", name) ?? throw new InvalidOperationException($"Secret/{name} is referenced but not rendered");
        var model = BuiltInModels.Read<V1Secret>(secret);
        return model.StringData?.TryGetValue(key, out var plain) == true ? plain : Encoding.UTF8.GetString(model.Data[key]);
    }

    private static string Translate(string value, Dictionary<string, string> mounts, Dictionary<int, int> ports, IReadOnlyDictionary<string, string> addresses)
    {
        foreach (var (from, to) in addresses)
        {
            value = value.Replace(from, to, StringComparison.Ordinal);
        }

        // Listen on loopback here; inside a pod every interface is the pod's own.
        value = AnyAddress().Replace(value, m => ports.TryGetValue(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), out var local)
            ? $"127.0.0.1:{local.ToString(CultureInfo.InvariantCulture)}"
            : m.Value);
        foreach (var (mountPath, local) in mounts.OrderByDescending(m => m.Key.Length))
        {
            if (value == mountPath || value.StartsWith(mountPath + "/", StringComparison.Ordinal))
            {
                return local + value[mountPath.Length..];
            }
        }

        return value;
    }

    [GeneratedRegex(@"(?:0\.0\.0\.0|\+|\*):(\d+)")]
    private static partial Regex AnyAddress();
}
