namespace Mesh.Consumer.Tests;

/// <summary>The consumer as production hosts it (its app factory), on the test cluster's topics and a group of its own.</summary>
internal static class ConsumerTestApp
{
    /// <summary>
    /// A consumer that reads <paramref name="predictions"/>, dead-letters to <paramref name="deadLetters"/> and writes
    /// <paramref name="output"/>; <paramref name="settings"/> add to these or replace them.
    /// </summary>
    public static WebApplication Create(KafkaTestCluster cluster, string predictions, string deadLetters, string output, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topics:Predictions"] = predictions,
            ["Kafka:Topics:DeadLetter"] = deadLetters,
            ["Consumer:Output"] = output,
            ["Consumer:GroupId"] = "consumer-test-" + Guid.NewGuid().ToString("N"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return ConsumerApp.Create([], all);
    }
}
