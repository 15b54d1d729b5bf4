namespace Mesh.Deploy.Tests.Launch;

/// <summary>Starts rendered services in a <see cref="LaunchEnvironment"/> and asks them what a user would ask.</summary>
internal sealed class MeshPods(LaunchEnvironment environment)
{
    private static readonly TimeSpan s_startBound = TimeSpan.FromMinutes(3);

    public Task<RunningPod> StartAsync(string overlay, string name, IReadOnlyDictionary<string, string>? moreAddresses = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var set = Kustomize.Render(overlay);
        var pod = ServicePod.Find(set, MeshService.ByName(name))!;
        var addresses = environment.Addresses.Concat(moreAddresses ?? new Dictionary<string, string>()).ToDictionary();
        var work = Path.Combine(environment.Work, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        return RunningPod.StartAsync(name, ports => name switch
        {
            // No MLflow here: the model host serves the same two models from a folder.
            "model-host" => PodLaunch.Build(set, pod, work, ports, addresses,
                drop: n => n.StartsWith("ModelHost__Mlflow__Models__", StringComparison.Ordinal) || n == "ModelHost__Mlflow__TrackingUri" || n.StartsWith("MLFLOW_", StringComparison.Ordinal),
                extra: new Dictionary<string, string> { ["ModelHost__ModelRepository"] = environment.Models }),
            // Without MLFLOW_TRACKING_URI the sink tracks into its TrackingDir (an emptyDir in the pod).
            "metrics-sink" => PodLaunch.Build(set, pod, work, ports, addresses, drop: n => n.StartsWith("MLFLOW_", StringComparison.Ordinal), extra),
            _ => PodLaunch.Build(set, pod, work, ports, addresses, extra: extra),
        }, s_startBound);
    }

    /// <summary>The experiment spec's model host address, pointed at a started model host.</summary>
    public static Dictionary<string, string> ModelHostAddress(RunningPod modelHost) =>
        new() { ["model-host:8081"] = new Uri(modelHost.Launch.LocalUrl("grpc", "/")).Authority };

    public static async Task AssertReadyAndAliveAsync(RunningPod pod)
    {
        var container = pod.Launch.Pod.Container;
        var startup = container.StartupProbe.HttpGet;
        var ready = await pod.WaitForAsync(startup.Port.Value, startup.Path, s_startBound);
        Assert.True(ready, $"{pod.Launch.Pod.Id}: {startup.Path} never answered 200 (exited: {pod.HasExited}). Output:{Environment.NewLine}{pod.Output}");
        Assert.Equal(200, await pod.StatusAsync(pod.Launch.LocalUrl(container.ReadinessProbe.HttpGet.Port.Value, container.ReadinessProbe.HttpGet.Path)));
        Assert.Equal(200, await pod.StatusAsync(pod.Launch.LocalUrl(container.LivenessProbe.HttpGet.Port.Value, container.LivenessProbe.HttpGet.Path)));
    }

    /// <summary>The router's admin answer for its experiments in force (status code and body).</summary>
    public static async Task<string> ExperimentsAsync(RunningPod router)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, router.Launch.LocalUrl("http", "/admin/experiments"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", router.Launch.Environment["Router__Admin__Token"]);
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    public static async Task<string> HealthAsync(RunningPod pod)
    {
        using var http = new HttpClient();
        try
        {
            using var response = await http.GetAsync(pod.Launch.LocalUrl("http", "/health"));
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (HttpRequestException e)
        {
            return "unreachable: " + e.Message;
        }
    }

    /// <summary>Waits (bounded, not timed: the assertion is on the answer) until <paramref name="read"/> contains <paramref name="expected"/>.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<string>> read, string expected)
    {
        for (var attempt = 0; attempt < 240; attempt++)
        {
            if ((await read()).Contains(expected, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }
}
