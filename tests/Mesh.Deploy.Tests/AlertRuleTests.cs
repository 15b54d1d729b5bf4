namespace Mesh.Deploy.Tests;

public sealed partial class AlertRuleTests
{
    [Fact]
    public void PrometheusRule_EveryMeshMetric_IsOneAServiceExports()
    {
        var exported = MeshService.All.SelectMany(ExportedMetrics.For).ToHashSet(StringComparer.Ordinal);
        var failures = new List<string>();
        var alerts = new List<string>();
        foreach (var rule in Kustomize.Render("base").OfKind("PrometheusRule"))
        {
            foreach (var group in YamlPaths.Items(YamlPaths.Mapping(rule.Root, "spec"), "groups"))
            {
                foreach (var alert in YamlPaths.Items(group, "rules"))
                {
                    var name = YamlPaths.Scalar(alert, "alert") ?? "";
                    alerts.Add(name);
                    foreach (var metric in MetricsIn(YamlPaths.Scalar(alert, "expr") ?? ""))
                    {
                        if (!exported.Contains(metric))
                        {
                            failures.Add($"{rule.Id}: alert {name}: expr uses {metric}, which no service exports");
                        }
                    }
                }
            }
        }

        Assert.Contains("mesh_router_predictions_total", exported);
        Assert.Contains("rpc_client_call_duration_seconds_bucket", exported);
        Assert.Contains("mesh_router_end_to_end_duration_seconds_bucket", exported);
        Assert.DoesNotContain(exported, m => m.Contains("_milliseconds", StringComparison.Ordinal));
        Assert.Contains("mesh_model_host_inference_duration_seconds_bucket", exported);
        Assert.Equal(
            ["MeshCircuitOpen", "MeshConsumerLagGrowing", "MeshDeadLetterRate", "MeshEndToEndP99OverBudget", "MeshInferenceP99OverBudget", "MeshNoPredictions"],
            alerts.Order());
        Failures.None(failures, "PrometheusRule");
    }

    [Fact]
    public void Dashboard_EveryMeshMetric_IsOneAServiceExports()
    {
        var exported = MeshService.All.SelectMany(ExportedMetrics.For).ToHashSet(StringComparer.Ordinal);
        var map = Kustomize.Render("base").Find("ConfigMap", "mesh-dashboard")!;
        var dashboard = System.Text.Json.Nodes.JsonNode.Parse(YamlPaths.StringMap(YamlPaths.Mapping(map.Root, "data"))["dashboard.json"])!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray().Select(t => (Panel: (string)p["title"]!, Expr: (string)t!["expr"]!))).ToList();

        Assert.NotEmpty(expressions);
        var used = expressions.SelectMany(e => MetricsIn(e.Expr)).ToHashSet(StringComparer.Ordinal);
        // What an SRE watches: lag per partition, end-to-end latency, in-flight batches, circuit state, dropped spans.
        foreach (var metric in new[] { "messaging_kafka_consumer_lag", "mesh_router_end_to_end_duration_seconds_bucket", "mesh_router_batches_in_flight", "mesh_router_circuit_state", "otel_sdk_processor_span_processed_total" })
        {
            Assert.Contains(metric, used);
        }

        Failures.None(
            expressions.SelectMany(e => MetricsIn(e.Expr).Where(m => !exported.Contains(m)).Select(m => $"{map.Id}: panel '{e.Panel}' uses {m}, which no service exports")),
            "dashboard");
    }

    /// <summary>
    /// The services' metric names in a PromQL expression: the mesh's own and the OpenTelemetry-convention ones it
    /// exports (<c>rpc_*</c>, <c>messaging_*</c>, <c>otel_*</c>), leaving out label names (inside <c>{...}</c> and <c>by (...)</c>).
    /// </summary>
    private static IEnumerable<string> MetricsIn(string expression) =>
        ServiceMetric().Matches(LabelLists().Replace(expression, "")).Select(m => m.Value);

    [GeneratedRegex(@"\b(mesh|rpc|messaging|otel)_[a-z0-9_]+")]
    private static partial Regex ServiceMetric();

    [GeneratedRegex(@"\{[^}]*\}|\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex LabelLists();
}
