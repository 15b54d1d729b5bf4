namespace Mesh.Deploy.Tests.Checks;

/// <summary>The flows of the architecture (docs/architecture.md), and nothing more.</summary>
internal static class Architecture
{
    public static IReadOnlySet<Flow> Flows(ManifestSet set, NetworkFlows network)
    {
        var flows = new HashSet<Flow>
        {
            // Every Kafka client to the brokers (the model host is not one).
            new("producer", "kafka", 9092, "TCP"),
            new("router", "kafka", 9092, "TCP"),
            new("consumer", "kafka", 9092, "TCP"),
            new("metrics-sink", "kafka", 9092, "TCP"),
            // ModelInfer over gRPC.
            new("router", "model-host", 8081, "TCP"),
            // Bandit state; durable joins and rewards.
            new("router", "redis", 6379, "TCP"),
            new("metrics-sink", "redis", 6379, "TCP"),
            // Model versions from the registry; outcomes to the tracker.
            new("model-host", "mlflow", 5000, "TCP"),
            new("metrics-sink", "mlflow", 5000, "TCP"),
            // Prometheus scrapes /metrics on each service's http port.
            new("prometheus", "producer", 8070, "TCP"),
            new("prometheus", "router", 8090, "TCP"),
            new("prometheus", "model-host", 8080, "TCP"),
            new("prometheus", "consumer", 8075, "TCP"),
            new("prometheus", "metrics-sink", 8095, "TCP"),
        };
        foreach (var pod in network.All.Where(e => e.Namespace == "mesh" && e.Labels.GetValueOrDefault("app.kubernetes.io/part-of") == "mesh"))
        {
            flows.Add(new Flow(pod.Name, "dns", 53, "UDP"));
            flows.Add(new Flow(pod.Name, "dns", 53, "TCP"));
        }

        if (set.OfKind("Component").Any())
        {
            // The router's Dapr sidecar: its certificate and its components.
            flows.Add(new Flow("router", "dapr-sentry", 50001, "TCP"));
            flows.Add(new Flow("router", "dapr-operator", 6500, "TCP"));
        }

        return flows;
    }
}
