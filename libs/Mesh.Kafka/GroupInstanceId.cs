namespace Mesh.Kafka;

/// <summary>Builds the <c>group.instance.id</c> of a consumer: who this instance is, and which group it joins.</summary>
internal static class GroupInstanceId
{
    /// <summary>
    /// <c>&lt;group&gt;-&lt;instance&gt;</c>, with <c>-&lt;n&gt;</c> for the n-th further consumer of the same group in
    /// this process (a test hosting two routers in one process). Two services on one host never collide because the
    /// group differs; a restarted pod reclaims its partitions because the pod name and the creation order are the same.
    /// </summary>
    public static string Create(string groupId, string instanceName, int ordinal) =>
        ordinal == 0 ? $"{groupId}-{instanceName}" : $"{groupId}-{instanceName}-{ordinal}";

    /// <summary>
    /// The configured name, else <c>POD_NAME</c> (stable across a pod's restarts), else the host name with the
    /// process id: without a pod name nothing says two processes on this machine are not replicas running side by
    /// side, and sharing an id would get one of them fenced.
    /// </summary>
    public static string ResolveInstanceName(string? configured, Func<string, string?> environment, int processId)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.Trim();
        }

        var pod = environment("POD_NAME");
        if (!string.IsNullOrWhiteSpace(pod))
        {
            return pod.Trim();
        }

        var host = environment("HOSTNAME");
        host = string.IsNullOrWhiteSpace(host) ? Environment.MachineName : host.Trim();
        return $"{host}-{processId}";
    }
}
