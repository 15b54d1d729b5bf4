namespace Mesh.EndToEnd.Tests;

/// <summary>
/// An independent reader of the predictions topic: a plain consumer assigned every partition from the beginning (no
/// group, no commits), keeping for each request id the time of every copy it saw, while the test drives the mesh.
/// </summary>
internal sealed class PredictionTail : IDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTime>> _copies = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _records;

    public PredictionTail(string bootstrapServers, string topic, int partitions)
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "prediction-tail-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        _thread = new Thread(() => Run(consumer)) { IsBackground = true, Name = "prediction-tail" };
        _thread.Start();
    }

    /// <summary>Distinct request ids predicted so far.</summary>
    public int Distinct => _copies.Count;

    /// <summary>Prediction records read so far (copies included).</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Each request id seen more than once, with the times (the router's produce time) of its copies.</summary>
    public IReadOnlyDictionary<string, DateTime[]> Duplicates() =>
        _copies.Where(c => c.Value.Count > 1).ToDictionary(c => c.Key, c => c.Value.Order().ToArray());

    public bool Contains(string requestId) => _copies.ContainsKey(requestId);

    /// <summary>The latest produce time seen, or null before the first prediction.</summary>
    public DateTime? Latest { get; private set; }

    public async Task<bool> WaitForAsync(Func<PredictionTail, bool> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition(this) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return condition(this);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }

    private void Run(IConsumer<byte[], byte[]> consumer)
    {
        using (consumer)
        {
            while (!_stop.IsCancellationRequested)
            {
                var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (record is null || record.IsPartitionEOF)
                {
                    continue;
                }

                var prediction = Prediction.Parser.ParseFrom(record.Message.Value);
                var at = record.Message.Timestamp.UtcDateTime;
                _copies.GetOrAdd(prediction.RequestId, _ => new ConcurrentQueue<DateTime>()).Enqueue(at);
                Latest = Latest is { } latest && latest > at ? latest : at;
                Interlocked.Increment(ref _records);
            }

            consumer.Close();
        }
    }
}
