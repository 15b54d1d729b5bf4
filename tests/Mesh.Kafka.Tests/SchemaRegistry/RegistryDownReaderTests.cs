using Confluent.SchemaRegistry;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>A reader meeting a schema id it has not cached while the registry is down (the stand-in stopped).</summary>
public sealed class RegistryDownReaderTests
{
    [Fact]
    public async Task Decode_RegistryDownAndSchemaIdNotCached_ThrowsUndecodableNamingTheIdAndTheSetting()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var record = new FeatureRecord { RequestId = "r-1", Values = { 1, 2, 3, 4 } };
        var framed = fixture.Writer.Encode("features", record);
        var id = (await fixture.Client.GetLatestSchemaAsync("features-value")).Id;
        // Another service's reader, with its own client: it has seen no value of this schema yet.
        using var client = new CachedSchemaRegistryClient(fixture.Options.ToClientConfig());
        var reader = new WireFormatReader(client, fixture.Options);
        await fixture.Registry.StopAsync();

        var error = Assert.Throws<UndecodableValueException>(() => reader.Decode<FeatureRecord>("features", framed));

        Assert.Equal((id, "features-value"), (error.SchemaId, error.Subject));
        Assert.Contains($"schema id {id} (subject 'features-value') is not cached", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:SchemaRegistry:Url", error.Message, StringComparison.Ordinal);
        // A plain value needs no registry.
        Assert.Equal(record, reader.Decode<FeatureRecord>("features", record.ToByteArray()));
    }
}
