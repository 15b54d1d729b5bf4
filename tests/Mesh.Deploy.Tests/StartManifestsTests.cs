using System.Net.Http.Headers;
using Mesh.Deploy.Tests.Checks;
using Mesh.Deploy.Tests.Launch;
using Mesh.Deploy.Tests.Rendering;
using Mesh.Deploy.Tests.Services;

namespace Mesh.Deploy.Tests;

/// <summary>
/// A pod built from these manifests would start: each service's real binary runs with the rendered container's
/// entrypoint, environment and mounted ConfigMaps (cluster addresses pointed at local stand-ins), answers its
/// startup and readiness probe, its liveness probe, and stops on SIGTERM within its termination grace period.
/// </summary>
public sealed class StartManifestsTests(LaunchEnvironment environment) : IClassFixture<LaunchEnvironment>
{
    private const string Overlay = "overlays/dev";
    private static readonly TimeSpan s_startBound = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("producer")]
    [InlineData("model-host")]
    [InlineData("consumer")]
    [InlineData("metrics-sink")]
    public async Task RenderedContainer_Service_StartsReadyAliveAndStopsWithinGrace(string name)
    {
        using var pod = Start(name);

        await AssertReadyAndAliveAsync(pod);
        AssertStopsWithinGrace(pod);
    }

    [Fact]
    public async Task RenderedContainer_RouterWithModelHost_StartsReadyAliveAndStopsWithinGrace()
    {
        using var modelHost = Start("model-host");
        await AssertReadyAndAliveAsync(modelHost);
        using var router = Start("router", ModelHostAddress(modelHost));

        await AssertReadyAndAliveAsync(router);
        AssertStopsWithinGrace(router);
    }

    [Fact]
    public async Task ExperimentConfigMap_KubeletSymlinkSwap_RouterAppliesTheNewSpecAndKeepsItOverABadOne()
    {
        using var modelHost = Start("model-host");
        await AssertReadyAndAliveAsync(modelHost);
        using var router = Start("router", ModelHostAddress(modelHost));
        await AssertReadyAndAliveAsync(router);
        var spec = router.Launch.ConfigMaps["/etc/mesh/experiments"];
        var original = File.ReadAllText(Path.Combine(spec.Path, "experiments.yaml"));
        Assert.Contains("\"iris-ab\"", await ExperimentsAsync(router));

        // The kubelet's update: a new timestamped folder, ..data swapped to it, the key's path unchanged.
        spec.Write(new Dictionary<string, string> { ["experiments.yaml"] = original.Replace("name: iris-ab", "name: iris-ab-live", StringComparison.Ordinal) });
        Assert.True(await WaitForExperimentAsync(router, "\"iris-ab-live\""), "the router never applied the swapped spec. " + router.Output);

        spec.Write(new Dictionary<string, string> { ["experiments.yaml"] = "experiments:\n  - name: broken\n    strategy: nonsense\n" });
        Assert.True(await WaitForLogAsync(router, "was not applied"), "the router did not report the bad spec. " + router.Output);
        var inForce = await ExperimentsAsync(router);
        Assert.Contains("\"iris-ab-live\"", inForce);
        Assert.DoesNotContain("\"broken\"", inForce);
    }

    private RunningPod Start(string name, IReadOnlyDictionary<string, string>? moreAddresses = null)
    {
        var set = Kustomize.Render(Overlay);
        var pod = ServicePod.Find(set, MeshService.ByName(name))!;
        var addresses = environment.Addresses.Concat(moreAddresses ?? new Dictionary<string, string>()).ToDictionary();
        var work = Path.Combine(environment.Work, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        var launch = name switch
        {
            // No MLflow here: the model host serves the same two models from a folder.
            "model-host" => PodLaunch.Build(set, pod, work, addresses,
                drop: n => n.StartsWith("ModelHost__Mlflow__Models__", StringComparison.Ordinal) || n == "ModelHost__Mlflow__TrackingUri" || n.StartsWith("MLFLOW_", StringComparison.Ordinal),
                extra: new Dictionary<string, string> { ["ModelHost__ModelRepository"] = environment.Models }),
            // Without MLFLOW_TRACKING_URI the sink tracks into its TrackingDir (an emptyDir in the pod).
            "metrics-sink" => PodLaunch.Build(set, pod, work, addresses, drop: n => n.StartsWith("MLFLOW_", StringComparison.Ordinal)),
            _ => PodLaunch.Build(set, pod, work, addresses),
        };
        return RunningPod.Start(launch);
    }

    private static Dictionary<string, string> ModelHostAddress(RunningPod modelHost) =>
        new() { ["model-host:8081"] = new Uri(modelHost.Launch.LocalUrl("grpc", "/")).Authority };

    private static async Task AssertReadyAndAliveAsync(RunningPod pod)
    {
        var container = pod.Launch.Pod.Container;
        var startup = container.StartupProbe.HttpGet;
        var ready = await pod.WaitForAsync(startup.Port.Value, startup.Path, s_startBound);
        Assert.True(ready, $"{pod.Launch.Pod.Id}: {startup.Path} never answered 200 (exited: {pod.HasExited}). Output:{Environment.NewLine}{pod.Output}");
        Assert.Equal(200, await pod.StatusAsync(pod.Launch.LocalUrl(container.ReadinessProbe.HttpGet.Port.Value, container.ReadinessProbe.HttpGet.Path)));
        Assert.Equal(200, await pod.StatusAsync(pod.Launch.LocalUrl(container.LivenessProbe.HttpGet.Port.Value, container.LivenessProbe.HttpGet.Path)));
    }

    private static void AssertStopsWithinGrace(RunningPod pod)
    {
        var grace = TimeSpan.FromSeconds(pod.Launch.Pod.Deployment.Spec.Template.Spec.TerminationGracePeriodSeconds ?? 30);
        Assert.True(pod.Terminate(grace), $"{pod.Launch.Pod.Id}: still running {grace.TotalSeconds} s after SIGTERM: the kubelet would SIGKILL it. Output:{Environment.NewLine}{pod.Output}");
        Assert.True(pod.ExitCode == 0, $"{pod.Launch.Pod.Id}: exit code {pod.ExitCode} after SIGTERM. Output:{Environment.NewLine}{pod.Output}");
    }

    private static async Task<string> ExperimentsAsync(RunningPod router)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, router.Launch.LocalUrl("http", "/admin/experiments"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", router.Launch.Environment["Router__Admin__Token"]);
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    private static async Task<bool> WaitForExperimentAsync(RunningPod router, string expected)
    {
        // The kubelet itself takes up to a minute to project a change; the router polls every Router__ReloadIntervalMs.
        for (var attempt = 0; attempt < 240; attempt++)
        {
            if ((await ExperimentsAsync(router)).Contains(expected, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    private static async Task<bool> WaitForLogAsync(RunningPod pod, string text)
    {
        for (var attempt = 0; attempt < 240 && !pod.Output.Contains(text, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(250);
        }

        return pod.Output.Contains(text, StringComparison.Ordinal);
    }
}
