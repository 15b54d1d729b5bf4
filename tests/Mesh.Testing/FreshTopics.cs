using Mesh.Kafka;

namespace Mesh.Testing;

/// <summary>
/// Topics of a test's own, created on the cluster: each named by a prefix and a part no other test uses
/// (<see cref="KafkaTestCluster.UniqueTopic"/>), so tests do not read each other's records.
/// </summary>
public static class FreshTopics
{
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

    /// <summary>
    /// A fresh topic for each of the mesh's topics (features, predictions, shadow, labels, dead-letter, each name
    /// after <paramref name="prefix"/> when one is given), of <paramref name="partitions"/> partitions each.
    /// </summary>
    public static async Task<MeshTopics> CreateMeshTopicsAsync(this KafkaTestCluster cluster, int partitions, string? prefix = null)
    {
        var names = await cluster.CreateAsync(
            partitions, [.. new[] { "features", "predictions", "shadow", "labels", "dead-letter" }.Select(n => prefix is null ? n : $"{prefix}.{n}")]);
        return new MeshTopics { Features = names[0], Predictions = names[1], ShadowPredictions = names[2], Labels = names[3], DeadLetter = names[4] };
    }

    private static async Task<string[]> CreateAsync(this KafkaTestCluster cluster, int partitions, string[] prefixes)
    {
        var names = prefixes.Select(KafkaTestCluster.UniqueTopic).ToArray();
        await cluster.CreateTopicsAsync(partitions, names);
        return names;
    }
}
