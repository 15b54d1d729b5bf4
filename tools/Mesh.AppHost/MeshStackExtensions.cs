namespace Mesh.AppHost;

/// <summary>The local mesh: the embedded broker and the five services, each its own process.</summary>
internal static class MeshStackExtensions
{
    public static void AddMeshStack(this IDistributedApplicationBuilder builder, MeshStackSettings stack)
    {
        PrepareRunFolder(stack);
        var modelHostHttp = MeshStackSettings.FreePort();
        var modelHostGrpc = MeshStackSettings.FreePort();
        var metricsSinkHttp = MeshStackSettings.FreePort();
        WriteEndpoints(stack, metricsSinkHttp);
        WriteExperiment(stack, Loopback(modelHostGrpc));

        // A fixed port, so a broker restarted from the dashboard comes back where the services, which read the
        // bootstrap file once, still look for it.
        var broker = builder.AddProject<Projects.Mesh_Cli>("broker", launchProfileName: null)
            .WithArgs("broker", "--bootstrap-file", stack.BootstrapFile, "--partitions", Invariant(stack.Partitions), "--port", Invariant(MeshStackSettings.FreePort()));

        // Aspire turns the model host's own Kestrel endpoints (appsettings.json: Http on 8080, Grpc on 8081) into
        // endpoints of the same names, proxied from those ports: pointed elsewhere by the variables below, they were
        // dashboard links to ports nothing listened on. Given the ports the host really listens on instead, unproxied.
        var modelHost = builder.AddProject<Projects.Mesh_ModelHost>("model-host", launchProfileName: null)
            .WithEndpoint("Http", e => Listen(e, modelHostHttp))
            .WithEndpoint("Grpc", e => Listen(e, modelHostGrpc))
            .WithMeshDefaults(stack, modelHostHttp, endpointName: "Http")
            .WithEnvironment("Kestrel__Endpoints__Http__Url", Loopback(modelHostHttp))
            .WithEnvironment("Kestrel__Endpoints__Grpc__Url", Loopback(modelHostGrpc))
            .WithEnvironment("ModelHost__ModelRepository", stack.ModelRepository)
            .WithMlflowEnvironment();

        var router = builder.AddProject<Projects.Mesh_Router>("router", launchProfileName: null)
            .WithMeshDefaults(stack, MeshStackSettings.FreePort())
            .WithEnvironment("Router__ExperimentFile", stack.ExperimentFile)
            .WithRedis("Router__Bandit__Redis", stack)
            // The bandit learns within the demo's minute: its shares follow the sink's rewards every second.
            .WithEnvironment("Router__Bandit__RefreshMs", "1000")
            .WaitFor(broker)
            .WaitFor(modelHost);

        var metricsSink = builder.AddProject<Projects.Mesh_MetricsSink>("metrics-sink", launchProfileName: null)
            .WithMeshDefaults(stack, metricsSinkHttp)
            .WithEnvironment("MetricsSink__TrackingDir", stack.TrackingDir)
            // The router's spec, for the outcomes an experiment declares (written above, before any service starts).
            .WithEnvironment("MetricsSink__ExperimentFile", stack.ExperimentFile)
            // Short windows, so a demo of a minute leaves several steps per arm in the tracking runs.
            .WithEnvironment("MetricsSink__WindowSeconds", "10")
            // Drift against the models' training profiles (reference_profile.json beside each model.onnx), unless the run
            // asks for each arm's first records (the demo, whose stream repeats 30 held-out rows: a sample that small
            // already differs from the 120 training rows, and would be flagged before any drift).
            .WithDriftReference(stack)
            // The bandit's rewards: each arm's joined predictions and the correct ones, added to the hash the router reads.
            .WithRedis("MetricsSink__Redis", stack)
            .WithMlflowEnvironment()
            .WaitFor(broker);

        builder.AddProject<Projects.Mesh_Consumer>("consumer", launchProfileName: null)
            .WithMeshDefaults(stack, MeshStackSettings.FreePort())
            .WithEnvironment("Consumer__Output", stack.PredictionsFile)
            .WaitFor(broker);

        // The producer starts once the router and the sink are up, so the demo's latencies are the mesh's,
        // not the time records waited for a consumer to start.
        builder.AddProject<Projects.Mesh_Producer>("producer", launchProfileName: null)
            .WithMeshDefaults(stack, MeshStackSettings.FreePort())
            .WithEnvironment("Producer__File", stack.DataFile)
            .WithEnvironment("Producer__Rate", Invariant(stack.Rate))
            .WithEnvironment("Producer__Count", Invariant(stack.Count))
            .WithEnvironment("Producer__DurationSeconds", Invariant(stack.DurationSeconds))
            .WithEnvironment("Producer__Entities", Invariant(stack.Entities))
            .WithEnvironment("Producer__LabelDelayMs", Invariant(stack.LabelDelayMs))
            .WithDrift(stack)
            .WaitFor(router)
            .WaitFor(metricsSink);
    }

    private static IResourceBuilder<ProjectResource> WithRedis(this IResourceBuilder<ProjectResource> resource, string variable, MeshStackSettings stack) =>
        stack.Redis is { } redis ? resource.WithEnvironment(variable, redis) : resource;

    private static IResourceBuilder<ProjectResource> WithDriftReference(this IResourceBuilder<ProjectResource> resource, MeshStackSettings stack) =>
        stack.DriftAgainstTraining ? resource.WithEnvironment("MetricsSink__Drift__ModelRepository", stack.ModelRepository) : resource;

    // The drift the page should flag: from a given record on, one feature's mean moves (Producer:Drift).
    private static IResourceBuilder<ProjectResource> WithDrift(this IResourceBuilder<ProjectResource> resource, MeshStackSettings stack) =>
        stack.DriftFeature is not { } feature
            ? resource
            : resource
                .WithEnvironment("Producer__Drift__Feature", feature)
                .WithEnvironment("Producer__Drift__Shift", stack.DriftShift.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
                .WithEnvironment("Producer__Drift__AfterRecords", stack.DriftAfterRecords.ToString(System.Globalization.CultureInfo.InvariantCulture));

    // MLflow's own variables, as the MLflow client reads them: set in the shell that runs the demo, they send
    // the sink's runs to that tracking server instead of the local folder.
    private static readonly string[] s_mlflowVariables =
    [
        "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT",
    ];

    private static IResourceBuilder<ProjectResource> WithMlflowEnvironment(this IResourceBuilder<ProjectResource> resource)
    {
        foreach (var name in s_mlflowVariables)
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                resource = resource.WithEnvironment(name, value);
            }
        }

        return resource;
    }

    /// <summary>
    /// What every service gets; <paramref name="endpointName"/> names an endpoint the resource already has (the model
    /// host's own <c>Http</c>), or is the <c>http</c> endpoint added here.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithMeshDefaults(this IResourceBuilder<ProjectResource> resource, MeshStackSettings stack, int httpPort, string? endpointName = null)
    {
        if (endpointName is null)
        {
            resource = resource.WithHttpEndpoint(port: httpPort, targetPort: httpPort, name: "http", isProxied: false);
        }

        return resource
            .WithEnvironment("Urls", Loopback(httpPort))
            .WithEnvironment("Kafka__BootstrapFile", stack.BootstrapFile)
            .WithEnvironment("Kafka__BootstrapWaitSeconds", "60")
            // The embedded broker answers an empty fetch only after fetch.wait.max.ms (it does not wake on new
            // data as a real broker does), so on one machine a short wait is what keeps latency low.
            .WithEnvironment("Kafka__Consumer__FetchWaitMaxMs", "1")
            .WithHttpHealthCheck("/health", endpointName: endpointName ?? "http");
    }

    private static void Listen(EndpointAnnotation endpoint, int port)
    {
        endpoint.Port = port;
        endpoint.TargetPort = port;
        endpoint.IsProxied = false;
    }

    private static void PrepareRunFolder(MeshStackSettings stack)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(stack.BootstrapFile)!);
        // A file left by a broker that was killed would point the services at a dead address.
        File.Delete(stack.BootstrapFile);
        if (Directory.Exists(stack.TrackingDir))
        {
            Directory.Delete(stack.TrackingDir, recursive: true);
        }

        File.Delete(stack.PredictionsFile);
        if (Directory.Exists(stack.LogDir))
        {
            Directory.Delete(stack.LogDir, recursive: true);
        }
    }

    private static void WriteExperiment(MeshStackSettings stack, string endpoint)
    {
        var yaml = new System.Text.StringBuilder()
            .AppendLine("# Written by the AppHost for this run: an A/B test of the two demo models, 50/50, sticky by entity, with")
            .AppendLine("# the candidate model as a shadow when it was trained, and a Thompson-sampling bandit over the same two")
            .AppendLine("# models when a Redis carries the metrics sink's rewards to the router (Mesh:Redis).")
            .AppendLine("experiments:")
            .AppendLine("  - name: iris-ab")
            .AppendLine("    strategy: ab")
            .AppendLine("    arms:");
        Arm(yaml, "logreg", "iris-logreg", endpoint, weight: 50);
        Arm(yaml, "boosted", "iris-boosted", endpoint, weight: 50);
        if (stack.HasCandidate)
        {
            yaml.AppendLine("    shadows:");
            Arm(yaml, "sdca", MeshStackSettings.CandidateModel, endpoint, weight: null);
        }

        if (stack.Redis is not null)
        {
            yaml.AppendLine("  - name: iris-bandit")
                .AppendLine("    strategy: bandit")
                .AppendLine("    bandit:")
                .AppendLine("      algorithm: thompson")
                .AppendLine("    arms:");
            Arm(yaml, "logreg", "iris-logreg", endpoint, weight: null);
            Arm(yaml, "boosted", "iris-boosted", endpoint, weight: null);
        }

        File.WriteAllText(stack.ExperimentFile, yaml.ToString());
    }

    private static void Arm(System.Text.StringBuilder yaml, string name, string model, string endpoint, int? weight)
    {
        yaml.AppendLine("      - name: " + name);
        if (weight is { } w)
        {
            yaml.AppendLine("        weight: " + Invariant(w));
        }

        yaml.AppendLine("        endpoint: " + endpoint)
            .AppendLine("        model: " + model)
            .AppendLine("        version: \"1\"");
    }

    // Where people look: `mesh demo` prints these.
    private static void WriteEndpoints(MeshStackSettings stack, int metricsSinkHttp)
    {
        File.WriteAllText(stack.EndpointsFile, $$"""
            { "experimentPage": "{{Loopback(metricsSinkHttp)}}/experiments", "summary": "{{Loopback(metricsSinkHttp)}}/api/summary" }
            """);
    }

    private static string Loopback(int port) => "http://127.0.0.1:" + Invariant(port);

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
