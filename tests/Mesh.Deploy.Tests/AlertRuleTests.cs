using System.Text.RegularExpressions;
using Mesh.Deploy.Tests.Rendering;
using Mesh.Deploy.Tests.Services;

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
                    foreach (Match metric in MeshMetric().Matches(YamlPaths.Scalar(alert, "expr") ?? ""))
                    {
                        if (!exported.Contains(metric.Value))
                        {
                            failures.Add($"{rule.Id}: alert {name}: expr uses {metric.Value}, which no service exports");
                        }
                    }
                }
            }
        }

        Assert.Contains("mesh_router_predictions_total", exported);
        Assert.Contains("mesh_router_inference_duration_milliseconds_bucket", exported);
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
        Failures.None(
            expressions.SelectMany(e => MeshMetric().Matches(e.Expr).Select(m => m.Value).Where(m => !exported.Contains(m)).Select(m => $"{map.Id}: panel '{e.Panel}' uses {m}, which no service exports")),
            "dashboard");
    }

    [GeneratedRegex(@"\bmesh_[a-z0-9_]+")]
    private static partial Regex MeshMetric();
}
