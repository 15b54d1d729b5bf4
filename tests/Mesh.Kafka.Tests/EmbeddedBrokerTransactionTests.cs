namespace Mesh.Kafka.Tests;

/// <summary>
/// What the embedded broker can show of exactly-once (the README's Guarantees say it): librdkafka's mock cluster
/// does not hide aborted transactions from <c>read_committed</c> fetches, so such a reader also gets the records of
/// an aborted transaction. A real cluster hides them; exactly-once tests that count duplicates need one.
/// </summary>
public sealed class EmbeddedBrokerTransactionTests
{
    [Fact]
    public void ReadCommitted_OnTheEmbeddedBroker_AbortedTransactionIsDeliveredToo()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic("txn", partitions: 1);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, TransactionalId = "txn-test" }).Build())
        {
            producer.InitTransactions(TimeSpan.FromSeconds(30));
            producer.BeginTransaction();
            producer.Produce("txn", Record("committed"));
            producer.CommitTransaction(TimeSpan.FromSeconds(30));
            producer.BeginTransaction();
            producer.Produce("txn", Record("aborted"));
            producer.Flush(TimeSpan.FromSeconds(30));
            producer.AbortTransaction(TimeSpan.FromSeconds(30));
            producer.BeginTransaction();
            producer.Produce("txn", Record("last"));
            producer.CommitTransaction(TimeSpan.FromSeconds(30));
        }

        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "txn-reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Subscribe("txn");
        var seen = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!seen.Contains("last") && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } record)
            {
                seen.Add(Encoding.UTF8.GetString(record.Message.Value));
            }
        }

        // On a real cluster: ["committed", "last"].
        Assert.Equal(["committed", "aborted", "last"], seen);
    }

    private static Message<byte[], byte[]> Record(string value) => new() { Key = [], Value = Encoding.UTF8.GetBytes(value) };
}
