namespace Mesh.Router.Tests;

/// <summary>What a router dead letter carries over from the record it could not process.</summary>
public sealed class DeadLetterContentTests
{
    [Fact]
    public void Create_RecordWithCredentialHeaders_CopiesOnlyMeshHeadersAndTraceContext()
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = "127.0.0.1:1" }).SetLogHandler((_, _) => { }).Build();
        var publisher = new DeadLetterPublisher(producer, "dead-letters", "router", NullLogger.Instance);
        var headers = new Headers
        {
            { "traceparent", Encoding.UTF8.GetBytes("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") },
            { "mesh-schema-version", "1"u8.ToArray() },
            { "content-type", "application/x-protobuf; messageType=mesh.v1.FeatureRecord"u8.ToArray() },
            { "authorization", "Bearer secret-upstream-token"u8.ToArray() },
            { "x-api-key", "k-123"u8.ToArray() },
        };
        var record = new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset("features", 0, 42),
            Message = new Message<byte[], byte[]> { Key = "e"u8.ToArray(), Value = [1, 2], Headers = headers },
        };

        var letter = publisher.Create(record, "validation", "bad record");

        Assert.Equal(["content-type", "mesh-schema-version", "traceparent"], letter.Headers.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(letter.Headers.Values, v => v.ToStringUtf8().Contains("secret", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("2", 2)]
    [InlineData("3", 3)]
    [InlineData("not a number", 1)]
    public void Create_ReplayedRecordFailingAgain_CarriesTheReplayAttempt(string? replayAttempt, int expected)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = "127.0.0.1:1" }).SetLogHandler((_, _) => { }).Build();
        var publisher = new DeadLetterPublisher(producer, "dead-letters", "router", NullLogger.Instance);
        var headers = new Headers { { MeshHeaders.Replay, "mesh.features.v1/0/7"u8.ToArray() } };
        if (replayAttempt is not null)
        {
            headers.Add(MeshHeaders.ReplayAttempt, Encoding.ASCII.GetBytes(replayAttempt));
        }

        var record = new ConsumeResult<byte[], byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset("features", 0, 43),
            Message = new Message<byte[], byte[]> { Key = "e"u8.ToArray(), Value = [1, 2], Headers = headers },
        };

        var letter = publisher.Create(record, "validation", "still bad");

        Assert.Equal(expected, letter.Attempt);
        Assert.Equal("mesh.features.v1/0/7", letter.Headers[MeshHeaders.Replay].ToStringUtf8());
    }
}
