namespace Mesh.Deploy.Tests.Checks;

/// <summary>One connection: who opens it, to whom, on which port.</summary>
internal sealed record Flow(string From, string To, int Port, string Protocol)
{
    public override string ToString() => $"{From} -> {To}:{Port}/{Protocol}";
}

/// <summary>A pod the policies can select or name: the mesh's own, and what runs outside it (Kafka, DNS, Prometheus).</summary>
internal sealed record FlowEndpoint(string Name, string Namespace, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, int> Ports);

/// <summary>
/// Evaluates NetworkPolicies as the API defines them (a pod is isolated in a direction once a policy of that type
/// selects it; a flow needs the source's egress and the destination's ingress) over the rendered pods.
/// </summary>
internal sealed class NetworkFlows
{
    private readonly List<FlowEndpoint> _endpoints;
    private readonly List<(V1NetworkPolicy Policy, string Id)> _policies;

    public NetworkFlows(ManifestSet set)
    {
        _endpoints = Endpoints(set);
        _policies = set.OfKind("NetworkPolicy").Select(o => (BuiltInModels.Read<V1NetworkPolicy>(o), o.Id)).ToList();
    }

    public IReadOnlyList<FlowEndpoint> All => _endpoints;

    /// <summary>Every flow some policy rule names, with the policy that names it.</summary>
    public IEnumerable<(Flow Flow, string Policy)> Declared()
    {
        foreach (var (policy, id) in _policies)
        {
            var selected = Selected(policy).ToList();
            foreach (var rule in policy.Spec.Ingress ?? [])
            {
                foreach (var to in selected)
                {
                    foreach (var from in Peers(policy, rule.FromProperty))
                    {
                        foreach (var flow in Resolve(from, to, rule.Ports, id))
                        {
                            yield return (flow, id);
                        }
                    }
                }
            }

            foreach (var rule in policy.Spec.Egress ?? [])
            {
                foreach (var from in selected)
                {
                    foreach (var to in Peers(policy, rule.To))
                    {
                        foreach (var flow in Resolve(from, to, rule.Ports, id))
                        {
                            yield return (flow, id);
                        }
                    }
                }
            }
        }
    }

    /// <summary>True when the policies let <paramref name="flow"/> through in both directions.</summary>
    public bool Allows(Flow flow)
    {
        var egressIsolated = _policies.Any(p => HasType(p.Policy, "Egress") && Selected(p.Policy).Any(e => e.Name == flow.From));
        var ingressIsolated = _policies.Any(p => HasType(p.Policy, "Ingress") && Selected(p.Policy).Any(e => e.Name == flow.To));
        var egress = !egressIsolated || _policies.Any(p => Selected(p.Policy).Any(e => e.Name == flow.From) && EgressNames(p.Policy, flow));
        var ingress = !ingressIsolated || _policies.Any(p => Selected(p.Policy).Any(e => e.Name == flow.To) && IngressNames(p.Policy, flow));
        return egress && ingress;
    }

    private bool EgressNames(V1NetworkPolicy policy, Flow flow) =>
        (policy.Spec.Egress ?? []).Any(rule => Peers(policy, rule.To).Any(to => to.Name == flow.To) &&
            Resolve(_endpoints.Single(e => e.Name == flow.From), _endpoints.Single(e => e.Name == flow.To), rule.Ports, "").Contains(flow));

    private bool IngressNames(V1NetworkPolicy policy, Flow flow) =>
        (policy.Spec.Ingress ?? []).Any(rule => Peers(policy, rule.FromProperty).Any(from => from.Name == flow.From) &&
            Resolve(_endpoints.Single(e => e.Name == flow.From), _endpoints.Single(e => e.Name == flow.To), rule.Ports, "").Contains(flow));

    private static bool HasType(V1NetworkPolicy policy, string type) =>
        policy.Spec.PolicyTypes?.Contains(type) ?? (type == "Ingress" || (policy.Spec.Egress?.Count ?? 0) > 0);

    private IEnumerable<FlowEndpoint> Selected(V1NetworkPolicy policy) =>
        _endpoints.Where(e => e.Namespace == (policy.Metadata.NamespaceProperty ?? "mesh") && Matches(policy.Spec.PodSelector, e.Labels));

    private IEnumerable<FlowEndpoint> Peers(V1NetworkPolicy policy, IList<V1NetworkPolicyPeer>? peers)
    {
        if (peers is null || peers.Count == 0)
        {
            return _endpoints;
        }

        return _endpoints.Where(e => peers.Any(peer =>
        {
            if (peer.IpBlock is not null)
            {
                throw new InvalidOperationException("ipBlock peers are not part of the mesh's architecture");
            }

            var inNamespace = peer.NamespaceSelector is null
                ? e.Namespace == (policy.Metadata.NamespaceProperty ?? "mesh")
                : Matches(peer.NamespaceSelector, new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = e.Namespace });
            return inNamespace && (peer.PodSelector is null || Matches(peer.PodSelector, e.Labels));
        }));
    }

    private static IEnumerable<Flow> Resolve(FlowEndpoint from, FlowEndpoint to, IList<V1NetworkPolicyPort>? ports, string policy)
    {
        if (ports is null || ports.Count == 0)
        {
            throw new InvalidOperationException($"{policy}: a rule without ports allows every port; name the ports of the architecture");
        }

        foreach (var port in ports)
        {
            var value = port.Port?.Value ?? "";
            int? number = int.TryParse(value, out var n) ? n : to.Ports.TryGetValue(value, out var named) ? named : null;
            if (number is { } resolved)
            {
                yield return new Flow(from.Name, to.Name, resolved, port.Protocol ?? "TCP");
            }
        }
    }

    private static bool Matches(V1LabelSelector? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return true;
        }

        var byLabels = (selector.MatchLabels ?? new Dictionary<string, string>()).All(m => labels.TryGetValue(m.Key, out var v) && v == m.Value);
        var byExpressions = (selector.MatchExpressions ?? []).All(x => x.OperatorProperty switch
        {
            "In" => labels.TryGetValue(x.Key, out var v) && x.Values.Contains(v),
            "NotIn" => !labels.TryGetValue(x.Key, out var v) || !x.Values.Contains(v),
            "Exists" => labels.ContainsKey(x.Key),
            "DoesNotExist" => !labels.ContainsKey(x.Key),
            _ => false,
        });
        return byLabels && byExpressions;
    }

    private static List<FlowEndpoint> Endpoints(ManifestSet set)
    {
        var endpoints = new List<FlowEndpoint>();
        foreach (var o in set.OfKind("Deployment"))
        {
            var deployment = BuiltInModels.Deployment(o);
            var ports = deployment.Spec.Template.Spec.Containers.SelectMany(c => c.Ports ?? [])
                .ToDictionary(p => p.Name ?? p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.ContainerPort);
            endpoints.Add(new FlowEndpoint(o.Name, o.Namespace, new Dictionary<string, string>(deployment.Spec.Template.Metadata.Labels), ports));
        }

        // Pods the mesh does not run itself, labelled as their operators label them.
        endpoints.Add(new FlowEndpoint("kafka", "mesh", new Dictionary<string, string> { ["strimzi.io/cluster"] = "mesh", ["strimzi.io/kind"] = "Kafka", ["strimzi.io/name"] = "mesh-kafka" }, new Dictionary<string, int> { ["tcp-clients"] = 9092 }));
        endpoints.Add(new FlowEndpoint("dns", "kube-system", new Dictionary<string, string> { ["k8s-app"] = "kube-dns" }, new Dictionary<string, int> { ["dns"] = 53 }));
        endpoints.Add(new FlowEndpoint("prometheus", "monitoring", new Dictionary<string, string> { ["app.kubernetes.io/name"] = "prometheus" }, new Dictionary<string, int>()));
        endpoints.Add(new FlowEndpoint("dapr-sentry", "dapr-system", new Dictionary<string, string> { ["app"] = "dapr-sentry" }, new Dictionary<string, int> { ["grpc"] = 50001 }));
        endpoints.Add(new FlowEndpoint("dapr-operator", "dapr-system", new Dictionary<string, string> { ["app"] = "dapr-operator" }, new Dictionary<string, int> { ["grpc"] = 6500 }));
        if (endpoints.All(e => e.Name != "mlflow"))
        {
            // base and prod expect an MLflow the user runs at mlflow:5000 in the namespace (dev renders one).
            endpoints.Add(new FlowEndpoint("mlflow", "mesh", new Dictionary<string, string> { ["app.kubernetes.io/name"] = "mlflow", ["app.kubernetes.io/part-of"] = "mesh" }, new Dictionary<string, int> { ["http"] = 5000 }));
        }

        return endpoints;
    }
}
