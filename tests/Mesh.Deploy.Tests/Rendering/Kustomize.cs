namespace Mesh.Deploy.Tests.Rendering;

/// <summary>Renders deploy/k8s folders with <c>kubectl kustomize</c>, offline, once per folder and test run.</summary>
internal static class Kustomize
{
    public static readonly string[] Overlays = ["base", "overlays/dev", "overlays/prod", "overlays/dapr"];

    private static readonly ConcurrentDictionary<string, Lazy<ManifestSet>> s_rendered = new(StringComparer.Ordinal);

    public static string DeployRoot => Path.Combine(TestRepository.Root, "deploy", "k8s");

    public static ManifestSet Render(string folder) =>
        s_rendered.GetOrAdd(folder, f => new Lazy<ManifestSet>(() => ManifestSet.Parse(f, RenderText(Path.Combine(DeployRoot, f))))).Value;

    public static string RenderText(string directory)
    {
        var kubectl = FindKubectl();
        var start = new ProcessStartInfo(kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {kubectl}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize {directory} failed (exit {process.ExitCode}): {error.Result}");
        }

        return output.Result;
    }

    private static string FindKubectl()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "kubectl is not installed: the deploy/k8s tests render the manifests with `kubectl kustomize` (kubectl 1.27 or later " +
            "has kustomize built in). Install kubectl (https://kubernetes.io/docs/tasks/tools/) and put it on PATH.");
    }
}
