namespace Mesh.Deploy.Tests;

/// <summary>
/// A pod built from these manifests would start: each service's real binary runs with the rendered container's
/// entrypoint, environment and mounted ConfigMaps (cluster addresses pointed at local stand-ins), answers its
/// startup and readiness probe, its liveness probe, and stops on SIGTERM within its termination grace period.
/// </summary>
public sealed class StartManifestsTests(LaunchEnvironment environment) : IClassFixture<LaunchEnvironment>
{
    private const string Overlay = "overlays/dev";

    [Theory]
    [InlineData("producer")]
    [InlineData("model-host")]
    [InlineData("consumer")]
    [InlineData("metrics-sink")]
    public async Task RenderedContainer_Service_StartsReadyAliveAndStopsWithinGrace(string name)
    {
        using var pod = await StartReadyAsync(name);

        AssertStopsWithinGrace(pod);
    }

    [Fact]
    public async Task RenderedContainer_RouterWithModelHost_StartsReadyAliveAndStopsWithinGrace()
    {
        using var modelHost = await StartReadyAsync("model-host");
        using var router = await StartReadyAsync("router", MeshPods.ModelHostAddress(modelHost));

        AssertStopsWithinGrace(router);
    }

    [Fact]
    public async Task ExperimentConfigMap_KubeletSymlinkSwap_RouterAppliesTheNewSpecAndKeepsItOverABadOne()
    {
        using var modelHost = await StartReadyAsync("model-host");
        using var router = await StartReadyAsync("router", MeshPods.ModelHostAddress(modelHost));
        var spec = router.Launch.ConfigMaps["/etc/mesh/experiments"];
        var original = File.ReadAllText(Path.Combine(spec.Path, "experiments.yaml"));
        Assert.Contains("\"iris-ab\"", await MeshPods.ExperimentsAsync(router));

        // The kubelet's update: a new timestamped folder, ..data swapped to it, the key's path unchanged.
        spec.Write(new Dictionary<string, string> { ["experiments.yaml"] = original.Replace("name: iris-ab", "name: iris-ab-live", StringComparison.Ordinal) });
        Assert.True(await MeshPods.EventuallyAsync(() => MeshPods.ExperimentsAsync(router), "\"iris-ab-live\""), "the router never applied the swapped spec. " + router.Output);

        spec.Write(new Dictionary<string, string> { ["experiments.yaml"] = "experiments:\n  - name: broken\n    strategy: nonsense\n" });
        Assert.True(await MeshPods.EventuallyAsync(() => Task.FromResult(router.Output), "was not applied"), "the router did not report the bad spec. " + router.Output);
        var inForce = await MeshPods.ExperimentsAsync(router);
        Assert.Contains("\"iris-ab-live\"", inForce);
        Assert.DoesNotContain("\"broken\"", inForce);
    }

    /// <summary>Starts the service's pod and asserts it ready and alive; a pod that is not is stopped before the failure is reported.</summary>
    private async Task<RunningPod> StartReadyAsync(string name, IReadOnlyDictionary<string, string>? moreAddresses = null)
    {
        var pod = await new MeshPods(environment).StartAsync(Overlay, name, moreAddresses);
        try
        {
            await MeshPods.AssertReadyAndAliveAsync(pod);
            return pod;
        }
        catch
        {
            pod.Dispose();
            throw;
        }
    }

    private static void AssertStopsWithinGrace(RunningPod pod)
    {
        var grace = TimeSpan.FromSeconds(pod.Launch.Pod.Deployment.Spec.Template.Spec.TerminationGracePeriodSeconds ?? 30);
        Assert.True(pod.Terminate(grace), $"{pod.Launch.Pod.Id}: still running {grace.TotalSeconds} s after SIGTERM: the kubelet would SIGKILL it. Output:{Environment.NewLine}{pod.Output}");
        Assert.True(pod.ExitCode == 0, $"{pod.Launch.Pod.Id}: exit code {pod.ExitCode} after SIGTERM. Output:{Environment.NewLine}{pod.Output}");
    }
}
