namespace Mesh.Deploy.Tests.Checks;

/// <summary>
/// Deserializes built-in objects strictly into the official client's typed models: a field the Kubernetes API
/// does not define (misspelt or misplaced) throws instead of being dropped, as a lenient reader would.
/// </summary>
internal static class BuiltInModels
{
    public static readonly IReadOnlyDictionary<string, Type> Types = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["v1/Namespace"] = typeof(V1Namespace),
        ["v1/ConfigMap"] = typeof(V1ConfigMap),
        ["v1/Secret"] = typeof(V1Secret),
        ["v1/Service"] = typeof(V1Service),
        ["v1/ServiceAccount"] = typeof(V1ServiceAccount),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
        ["networking.k8s.io/v1/NetworkPolicy"] = typeof(V1NetworkPolicy),
        ["autoscaling/v2/HorizontalPodAutoscaler"] = typeof(V2HorizontalPodAutoscaler),
    };

    public static bool IsBuiltIn(ManifestObject o) => Types.ContainsKey($"{o.ApiVersion}/{o.Kind}");

    /// <summary>Returns the failure (naming the object and the field the model rejected), or null.</summary>
    public static string? Check(ManifestObject o)
    {
        var type = Types[$"{o.ApiVersion}/{o.Kind}"];
        try
        {
            var method = typeof(KubernetesYaml).GetMethods()
                .Single(m => m.Name == nameof(KubernetesYaml.Deserialize) && m.IsGenericMethod && m.GetParameters() is [{ ParameterType: var p }, _] && p == typeof(string));
            method.MakeGenericMethod(type).Invoke(null, [o.Yaml, true]);
            return null;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            return $"{o.Id}: not a valid {o.ApiVersion} {o.Kind}: {e.InnerException.Message}";
        }
    }

    public static V1Deployment Deployment(ManifestObject o) => KubernetesYaml.Deserialize<V1Deployment>(o.Yaml, strict: true);

    public static T Read<T>(ManifestObject o) => KubernetesYaml.Deserialize<T>(o.Yaml, strict: true);
}
