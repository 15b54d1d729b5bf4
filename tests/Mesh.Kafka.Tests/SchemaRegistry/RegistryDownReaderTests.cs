namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>A reader meeting a schema id it has not cached while the registry is down (the stand-in stopped).</summary>
public sealed class RegistryDownReaderTests
{
    private static readonly FeatureRecord s_record = new() { RequestId = "r-2", EntityId = "e-2", Values = { 5.1f, 3.5f, 1.4f, 0.2f } };

    [Fact]
    public async Task Decode_RegistryDownPastTheBoundAndSchemaIdNotCached_ThrowsUnavailableNamingTheIdSubjectAndSettings()
    {
        await using var fixture = await RegistryFixture.StartAsync(unavailableRetryMs: 300);
        var record = new FeatureRecord { RequestId = "r-1", Values = { 1, 2, 3, 4 } };
        var framed = fixture.Writer.Encode("features", record);
        var id = (await fixture.Client.GetLatestSchemaAsync("features-value")).Id;
        // Another service's reader, with its own client: it has seen no value of this schema yet.
        using var client = new CachedSchemaRegistryClient(fixture.Options.ToClientConfig());
        var reader = new WireFormatReader(client, fixture.Options);
        await fixture.Registry.StopAsync();

        // Not an UndecodableValueException (a dead letter): the registry may well hold the id; the service must fail
        // and read the record again once the registry is back.
        var error = Assert.Throws<SchemaRegistryUnavailableException>(() => reader.Decode<FeatureRecord>("features", framed));

        Assert.Equal("features-value", error.Subject);
        Assert.Contains($"schema id {id}, subject 'features-value', which is not cached", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Kafka:SchemaRegistry:Url:", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:SchemaRegistry:UnavailableRetryMs", error.Message, StringComparison.Ordinal);
        // A plain value needs no registry.
        Assert.Equal(record, reader.Decode<FeatureRecord>("features", record.ToByteArray()));
    }

    [Fact]
    public async Task Decode_UncachedIdWhileTheRegistryRefusesConnectionsThenBack_WaitsAndReadsTheRecord()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var value = fixture.Writer.Encode("features", s_record);
        using var client = new CachedSchemaRegistryClient(fixture.Options.ToClientConfig());
        var reader = new WireFormatReader(client, fixture.Options);
        await fixture.Registry.StopAsync();

        var waiting = Task.Run(() => reader.Decode<FeatureRecord>("features", value));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await fixture.Registry.StartAgainAsync();

        Assert.Equal(s_record, await waiting);
    }

    [Fact]
    public async Task Decode_StoppingWhileWaitingForTheRegistry_EndsTheWait()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var value = fixture.Writer.Encode("features", s_record);
        using var stopping = new CancellationTokenSource();
        using var client = new CachedSchemaRegistryClient(fixture.Options.ToClientConfig());
        var reader = new WireFormatReader(client, fixture.Options, stopping.Token);
        await fixture.Registry.StopAsync();

        var waiting = Task.Run(() => reader.Decode<FeatureRecord>("features", value));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
