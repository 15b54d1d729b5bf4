namespace Mesh.Deploy.Tests.Dapr;

/// <summary>
/// The router from overlays/dapr (Router:Experiments:Source=Dapr), its real binary and the real Dapr.Client, against
/// a stand-in sidecar: the spec comes from the store, follows live changes, refuses a bad one, and survives the
/// sidecar going away and coming back, with the rendered producer's records flowing through it.
/// </summary>
public sealed class DaprExperimentSourceTests(LaunchEnvironment environment) : IClassFixture<LaunchEnvironment>
{
    private const string Overlay = "overlays/dapr";
    private const string Store = "mesh-config";
    private const string Key = "experiments";

    [Fact]
    public async Task DaprSource_InitialLiveBadAndSidecarAway_FollowsTheStoreAndKeepsTheLastGoodSpec()
    {
        var pods = new MeshPods(environment);
        using var modelHost = await pods.StartAsync(Overlay, "model-host");
        await MeshPods.AssertReadyAndAliveAsync(modelHost);
        await using var sidecar = new DaprSidecarStandIn(Store);
        await sidecar.StartAsync();
        var endpoint = new Uri(modelHost.Launch.LocalUrl("grpc", "/")).Authority;
        sidecar.Store.Set(Key, Spec("iris-dapr", endpoint));
        using var router = await pods.StartAsync(Overlay, "router", MeshPods.ModelHostAddress(modelHost), Sidecar(sidecar));

        // Initial load: the spec in force is the store's, not the mounted file's.
        await MeshPods.AssertReadyAndAliveAsync(router);
        var initial = await MeshPods.ExperimentsAsync(router);
        Assert.Contains("\"iris-dapr\"", initial);
        Assert.DoesNotContain("\"iris-ab\"", initial);
        using var producer = await pods.StartAsync(Overlay, "producer");
        await MeshPods.AssertReadyAndAliveAsync(producer);
        Assert.True(environment.SawPrediction("iris-dapr", TimeSpan.FromMinutes(2)), "no predictions of the store's experiment. " + router.Output);

        // A live change, pushed while records flow: the predictions follow it.
        sidecar.Store.Set(Key, Spec("iris-dapr-live", endpoint));
        Assert.True(await MeshPods.EventuallyAsync(() => MeshPods.ExperimentsAsync(router), "\"iris-dapr-live\""), "the live change was not applied. " + router.Output);
        Assert.True(environment.SawPrediction("iris-dapr-live", TimeSpan.FromMinutes(2)), "no predictions of the changed experiment. " + router.Output);

        // A bad change: rejected by the spec loader, logged, and the last good spec stays.
        sidecar.Store.Set(Key, "experiments:\n  - name: broken\n    strategy: nonsense\n");
        Assert.True(await MeshPods.EventuallyAsync(() => Task.FromResult(router.Output), "was rejected; the last good spec stays"), "the bad spec was not reported. " + router.Output);
        Assert.Contains("\"iris-dapr-live\"", await MeshPods.ExperimentsAsync(router));
        Assert.DoesNotContain("\"broken\"", await MeshPods.ExperimentsAsync(router));

        // The sidecar goes away: still routing on the last good spec, /health says degraded.
        await sidecar.StopAsync();
        Assert.True(await MeshPods.EventuallyAsync(() => MeshPods.HealthAsync(router), "Degraded"), "/health did not report the lost store: " + await MeshPods.HealthAsync(router));
        Assert.StartsWith("200 ", await MeshPods.HealthAsync(router));
        Assert.Contains("\"iris-dapr-live\"", await MeshPods.ExperimentsAsync(router));

        // Changed while it was away, then back: the router reads the current value and follows again.
        sidecar.Store.Set(Key, Spec("iris-dapr-back", endpoint));
        await sidecar.StartAsync();
        Assert.True(await MeshPods.EventuallyAsync(() => MeshPods.ExperimentsAsync(router), "\"iris-dapr-back\""), "the change made while the sidecar was away was not applied. " + router.Output);
        Assert.True(await MeshPods.EventuallyAsync(() => MeshPods.HealthAsync(router), "Healthy"), "/health stayed degraded: " + await MeshPods.HealthAsync(router));
        sidecar.Store.Set(Key, Spec("iris-dapr-after", endpoint));
        Assert.True(await MeshPods.EventuallyAsync(() => MeshPods.ExperimentsAsync(router), "\"iris-dapr-after\""), "no live change after the sidecar came back. " + router.Output);
    }

    [Fact]
    public async Task DaprSource_StoreUnreachableAtStart_ExitsWith78NamingTheSetting()
    {
        var extra = new Dictionary<string, string>
        {
            // Nothing listens on the discard port here: the store is unreachable.
            ["Router__Experiments__Dapr__GrpcEndpoint"] = "http://127.0.0.1:9",
            ["Router__Experiments__Dapr__StartWaitSeconds"] = "1",
            ["Router__Experiments__Dapr__SpecFile"] = Path.Combine(environment.Work, "unreachable", "spec.yaml"),
        };
        using var router = await new MeshPods(environment).StartAsync(Overlay, "router", extra: extra);

        var exited = await MeshPods.EventuallyAsync(() => Task.FromResult(router.HasExited ? "exited" : ""), "exited");

        Assert.True(exited, "the router kept running without its configuration store. " + router.Output);
        Assert.Equal(78, router.ExitCode);
        Assert.Contains("Router:Experiments:Dapr:Store: the Dapr configuration store 'mesh-config' did not answer", router.Output);
    }

    private Dictionary<string, string> Sidecar(DaprSidecarStandIn sidecar) => new()
    {
        // In the pod the sidecar is at Dapr's default 127.0.0.1:50001; here the stand-in's port.
        ["Router__Experiments__Dapr__GrpcEndpoint"] = sidecar.Endpoint,
        ["Router__Experiments__Dapr__ResubscribeMs"] = "250",
        ["Router__Experiments__Dapr__SpecFile"] = Path.Combine(environment.Work, "dapr-" + Guid.NewGuid().ToString("N")[..6], "spec.yaml"),
    };

    private static string Spec(string name, string modelHost) => $"""
        experiments:
          - name: {name}
            strategy: ab
            arms:
              - name: logreg
                weight: 50
                endpoint: http://{modelHost}
                model: iris-logreg
              - name: boosted
                weight: 50
                endpoint: http://{modelHost}
                model: iris-boosted
        """;
}
