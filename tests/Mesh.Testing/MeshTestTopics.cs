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
        environment["Kafka__BootstrapServers"] = bootstrapServers;
        environment["Kafka__Topics__Features"] = topics.Features;
        environment["Kafka__Topics__Predictions"] = topics.Predictions;
        environment["Kafka__Topics__ShadowPredictions"] = topics.ShadowPredictions;
        environment["Kafka__Topics__Labels"] = topics.Labels;
        environment["Kafka__Topics__DeadLetter"] = topics.DeadLetter;
    }
}
