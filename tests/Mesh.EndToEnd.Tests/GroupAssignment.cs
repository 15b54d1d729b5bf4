namespace Mesh.EndToEnd.Tests;

/// <summary>
/// What a service's own rebalance log says it owns: its "Assigned" and "Revoked" lines (incremental, cooperative
/// rebalancing) applied in order. The mesh's consumers log both for every rebalance.
/// </summary>
internal static partial class GroupAssignment
{
    public static HashSet<int> Owned(ServiceProcess process, string topic)
    {
        var owned = new HashSet<int>();
        foreach (var line in process.Output.Split('\n'))
        {
            var assigned = line.Contains("] Assigned ", StringComparison.Ordinal);
            if (!assigned && !line.Contains("] Revoked ", StringComparison.Ordinal) && !line.Contains("] Lost ", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (Match match in Partition().Matches(line))
            {
                if (match.Groups["topic"].Value != topic)
                {
                    continue;
                }

                var partition = int.Parse(match.Groups["partition"].Value, System.Globalization.CultureInfo.InvariantCulture);
                _ = assigned ? owned.Add(partition) : owned.Remove(partition);
            }
        }

        return owned;
    }

    /// <summary>True when every partition is owned by exactly one of <paramref name="members"/> and each owns one or more: the rebalance is over.</summary>
    public static bool Settled(IReadOnlyList<ServiceProcess> members, string topic, int partitions)
    {
        var owned = members.Select(m => Owned(m, topic)).ToList();
        return owned.All(o => o.Count > 0) && owned.Sum(o => o.Count) == partitions && owned.SelectMany(o => o).Distinct().Count() == partitions;
    }

    /// <summary>
    /// The partitions of <paramref name="topic"/> whose offset commit the group refused because a rebalance was in
    /// progress, as librdkafka logs it (COMMITFAIL ... "Group rebalance in progress: topic((null))[3]@628(...)"): their
    /// next owner starts from the commit before, so the records since then are predicted twice (at-least-once).
    /// </summary>
    public static HashSet<int> RefusedCommits(IEnumerable<ServiceProcess> processes, string topic)
    {
        var refused = new HashSet<int>();
        foreach (var line in processes.SelectMany(p => p.Output.Split('\n')))
        {
            if (!line.Contains("COMMITFAIL", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (Match match in RefusedPartition().Matches(line))
            {
                if (match.Groups["topic"].Value == topic)
                {
                    refused.Add(int.Parse(match.Groups["partition"].Value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        return refused;
    }

    [GeneratedRegex(@"(?<topic>[\w.\-]+) \[\[(?<partition>\d+)\]\]")]
    private static partial Regex Partition();

    [GeneratedRegex(@"(?<topic>[\w.\-]+)\(\([^)]*\)\)\[(?<partition>\d+)\]@\d+\(Broker: Group rebalance in progress\)")]
    private static partial Regex RefusedPartition();
}
