namespace Mesh.Deploy.Tests.Checks;

/// <summary>
/// The fields the custom resources may use, carried over from their published CRDs (Strimzi 0.46 kafka.strimzi.io/v1beta2,
/// KEDA 2.x keda.sh/v1alpha1 and its Kafka scaler's parameters, Prometheus Operator monitoring.coreos.com/v1,
/// Dapr dapr.io/v1alpha1): only the parts these manifests need, so a misspelt or invented field fails.
/// A path is dotted, <c>[]</c> marks a list item, <c>*</c> one free key (labels, broker config), <c>**</c> any subtree.
/// </summary>
internal static class CrdFields
{
    private static readonly string[] s_metadata = ["metadata.name", "metadata.namespace", "metadata.labels.*", "metadata.annotations.*"];

    private static readonly string[] s_resources = ["spec.resources.requests.*", "spec.resources.limits.*"];

    private static readonly string[] s_kafkaScaler =
    [
        "bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
        "allowIdleConsumers", "excludePersistentLag", "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag", "partitionLimitation",
    ];

    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["kafka.strimzi.io/v1beta2/Kafka"] =
        [
            "spec.kafka.version", "spec.kafka.metadataVersion",
            "spec.kafka.listeners[].name", "spec.kafka.listeners[].port", "spec.kafka.listeners[].type", "spec.kafka.listeners[].tls",
            "spec.kafka.listeners[].authentication.type",
            "spec.kafka.listeners[].networkPolicyPeers[].podSelector.matchLabels.*",
            "spec.kafka.listeners[].networkPolicyPeers[].namespaceSelector.matchLabels.*",
            "spec.kafka.config.*", "spec.kafka.authorization.type",
            "spec.entityOperator.topicOperator", "spec.entityOperator.userOperator",
        ],
        ["kafka.strimzi.io/v1beta2/KafkaNodePool"] =
        [
            "spec.replicas", "spec.roles[]", "spec.storage.type",
            "spec.storage.volumes[].id", "spec.storage.volumes[].type", "spec.storage.volumes[].size",
            "spec.storage.volumes[].deleteClaim", "spec.storage.volumes[].kraftMetadata", .. s_resources,
        ],
        ["kafka.strimzi.io/v1beta2/KafkaTopic"] = ["spec.topicName", "spec.partitions", "spec.replicas", "spec.config.*"],
        ["kafka.strimzi.io/v1beta2/KafkaUser"] =
        [
            "spec.authentication.type", "spec.authorization.type",
            "spec.authorization.acls[].resource.type", "spec.authorization.acls[].resource.name",
            "spec.authorization.acls[].resource.patternType", "spec.authorization.acls[].operations[]",
        ],
        ["keda.sh/v1alpha1/ScaledObject"] =
        [
            "spec.scaleTargetRef.name", "spec.scaleTargetRef.kind", "spec.scaleTargetRef.apiVersion",
            "spec.pollingInterval", "spec.cooldownPeriod", "spec.minReplicaCount", "spec.maxReplicaCount",
            "spec.triggers[].type", "spec.triggers[].authenticationRef.name",
            .. s_kafkaScaler.Select(p => "spec.triggers[].metadata." + p),
        ],
        ["keda.sh/v1alpha1/TriggerAuthentication"] =
        [
            "spec.secretTargetRef[].parameter", "spec.secretTargetRef[].name", "spec.secretTargetRef[].key",
        ],
        ["monitoring.coreos.com/v1/ServiceMonitor"] =
        [
            "spec.selector.matchLabels.*", "spec.endpoints[].port", "spec.endpoints[].path", "spec.endpoints[].interval",
            "spec.endpoints[].scrapeTimeout", "spec.endpoints[].scheme", "spec.namespaceSelector.matchNames[]",
        ],
        ["monitoring.coreos.com/v1/PrometheusRule"] =
        [
            "spec.groups[].name", "spec.groups[].interval", "spec.groups[].rules[].alert", "spec.groups[].rules[].record",
            "spec.groups[].rules[].expr", "spec.groups[].rules[].for", "spec.groups[].rules[].labels.*", "spec.groups[].rules[].annotations.*",
        ],
        ["dapr.io/v1alpha1/Component"] =
        [
            "spec.type", "spec.version", "spec.ignoreErrors", "spec.initTimeout",
            "spec.metadata[].name", "spec.metadata[].value", "spec.metadata[].secretKeyRef.name", "spec.metadata[].secretKeyRef.key",
            "scopes[]", "auth.secretStore",
        ],
    };

    public static bool IsCustom(ManifestObject o) => Allowed.ContainsKey($"{o.ApiVersion}/{o.Kind}");

    /// <summary>Every field of <paramref name="o"/> that its CRD does not define, as a failure naming the object and the path.</summary>
    public static IEnumerable<string> Check(ManifestObject o)
    {
        var allowed = Allowed[$"{o.ApiVersion}/{o.Kind}"].Concat(s_metadata).Append("apiVersion").Append("kind").ToArray();
        foreach (var path in YamlPaths.LeafPaths(o.Root))
        {
            if (!allowed.Any(pattern => Matches(pattern, path)))
            {
                yield return $"{o.Id}: field '{path}' is not defined by the {o.ApiVersion} {o.Kind} CRD";
            }
        }
    }

    private static bool Matches(string pattern, string path)
    {
        var p = pattern.Split('.');
        var s = path.Split('.');
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] == "**" || (p[i] == "*" && i == p.Length - 1 && s.Length > i))
            {
                // A free key at the end (a label, a broker setting) may itself contain dots.
                return true;
            }

            if (i >= s.Length || (p[i] != "*" && p[i] != s[i]))
            {
                return false;
            }
        }

        return p.Length == s.Length;
    }
}
