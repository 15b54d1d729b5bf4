using Mesh.Kafka;

namespace Mesh.Testing;

/// <summary>The mesh's five topics, fresh for one test (other fresh topics: <see cref="FreshTopics"/>), and the settings that point a service process at them.</summary>
public static class MeshTestTopics
{
    /// <summary>
    /// Creates a fresh topic for each of the mesh's topics (<c>{prefix}.features.{guid}</c> and so on; no prefix:
    /// <c>features.{guid}</c>), <paramref name="partitions"/> partitions each, so tests do not read each other's records.
    /// </summary>
    public static async Task<MeshTopics> CreateMeshTopicsAsync(this KafkaTestCluster cluster, int partitions, string prefix = "")
    {
        string Unique(string name) => KafkaTestCluster.UniqueTopic(prefix.Length == 0 ? name : $"{prefix}.{name}");
        var topics = new MeshTopics
        {
            Features = Unique("features"),
            Predictions = Unique("predictions"),
            ShadowPredictions = Unique("shadow"),
            Labels = Unique("labels"),
            DeadLetter = Unique("dead-letter"),
        };
        await cluster.CreateTopicsAsync(partitions, [.. topics.All]);
        return topics;
    }

    /// <summary>
    /// Sets the environment a service process reads its broker and topics from (<c>Kafka__BootstrapServers</c>,
    /// <c>Kafka__Topics__*</c>) to <paramref name="bootstrapServers"/> and <paramref name="topics"/>.
    /// </summary>
    public static void SetMeshEnvironment(this IDictionary<string, string> environment, string bootstrapServers, MeshTopics topics)
    {
        foreach (var (key, value) in MeshSettings(bootstrapServers, topics, "__"))
        {
            environment[key] = value;
        }
    }

    /// <summary>
    /// The same in configuration keys (<c>Kafka:BootstrapServers</c>, <c>Kafka:Topics:*</c>), for a service run in
    /// process from a settings dictionary.
    /// </summary>
    public static void SetMeshSettings(this IDictionary<string, string?> settings, string bootstrapServers, MeshTopics topics)
    {
        foreach (var (key, value) in MeshSettings(bootstrapServers, topics, ":"))
        {
            settings[key] = value;
        }
    }

    private static IEnumerable<(string Key, string Value)> MeshSettings(string bootstrapServers, MeshTopics topics, string separator)
    {
        yield return ($"Kafka{separator}BootstrapServers", bootstrapServers);
        yield return ($"Kafka{separator}Topics{separator}Features", topics.Features);
        yield return ($"Kafka{separator}Topics{separator}Predictions", topics.Predictions);
        yield return ($"Kafka{separator}Topics{separator}ShadowPredictions", topics.ShadowPredictions);
        yield return ($"Kafka{separator}Topics{separator}Labels", topics.Labels);
        yield return ($"Kafka{separator}Topics{separator}DeadLetter", topics.DeadLetter);
    }
}
