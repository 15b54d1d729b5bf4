namespace Mesh.Kafka.Tests.SchemaRegistry;

public sealed class WireFormatWithoutRegistryTests
{
    private static readonly FeatureRecord s_record = new() { RequestId = "r-1", EntityId = "e-1", FeatureSet = "iris", Values = { 5.1f, 3.5f, 1.4f, 0.2f } };

    [Fact]
    public void Encode_NoRegistryConfigured_WritesPlainProtobuf()
    {
        var writer = new WireFormatWriter(null, new SchemaRegistryOptions());

        Assert.False(writer.Enabled);
        Assert.Equal(s_record.ToByteArray(), writer.Encode("features", s_record));
    }

    [Fact]
    public void Decode_NoRegistryConfigured_ReadsPlainAndFramedValues()
    {
        var reader = WireFormatReader.Unchecked;
        var framed = new byte[] { 0, 0, 0, 0, 9, 0 }.Concat(s_record.ToByteArray()).ToArray();

        Assert.Equal(s_record, reader.Decode<FeatureRecord>("features", s_record.ToByteArray()));
        Assert.Equal(s_record, reader.Decode<FeatureRecord>("features", framed));
    }

    [Fact]
    public void Decode_MagicByteButHeaderCutShort_ThrowsNamingTheSubject()
    {
        var reader = new WireFormatReader(null, new SchemaRegistryOptions());

        var error = Assert.Throws<UndecodableValueException>(() => reader.Decode<FeatureRecord>("features", [0, 0, 0]));

        Assert.Contains("'features-value'", error.Message);
    }

    [Theory]
    [InlineData("localhost:8081", "Kafka:SchemaRegistry:Url")]
    [InlineData("ftp://registry", "Kafka:SchemaRegistry:Url")]
    public void Validate_UrlNotHttp_NamesTheSetting(string url, string setting)
    {
        var problem = new SchemaRegistryOptions { Url = url }.Validate();

        Assert.NotNull(problem);
        Assert.StartsWith(setting, problem);
    }
}
