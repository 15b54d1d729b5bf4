using Mesh.Kafka;

namespace Mesh.Testing;

/// <summary>
/// Topics of a test's own, created on the cluster: each named by a prefix and a part no other test uses
/// (<see cref="KafkaTestCluster.UniqueTopic"/>), so tests do not read each other's records.
/// </summary>
public static class FreshTopics
{
    /// <summary>One fresh topic of <paramref name="partitions"/> partitions: its name.</summary>
    public static async Task<string> CreateFreshTopicAsync(this KafkaTestCluster cluster, int partitions, string prefix) =>
        (await cluster.CreateAsync(partitions, [prefix]))[0];

    /// <summary>Two fresh topics of <paramref name="partitions"/> partitions each, their names in the order of the prefixes.</summary>
    public static async Task<(string First, string Second)> CreateFreshTopicsAsync(
        this KafkaTestCluster cluster, int partitions, string first, string second)
    {
        var names = await cluster.CreateAsync(partitions, [first, second]);
        return (names[0], names[1]);
    }

    /// <summary>Three fresh topics of <paramref name="partitions"/> partitions each, their names in the order of the prefixes.</summary>
    public static async Task<(string First, string Second, string Third)> CreateFreshTopicsAsync(
        this KafkaTestCluster cluster, int partitions, string first, string second, string third)
    {
        var names = await cluster.CreateAsync(partitions, [first, second, third]);
        return (names[0], names[1], names[2]);
    }

    private static async Task<string[]> CreateAsync(this KafkaTestCluster cluster, int partitions, string[] prefixes)
    {
        var names = prefixes.Select(KafkaTestCluster.UniqueTopic).ToArray();
        await cluster.CreateTopicsAsync(partitions, names);
        return names;
    }
}
