using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Mesh.Contracts.V1;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>
/// The reader remembers the header it last checked per message type, to skip the check for the records after it:
/// what it skips must be exactly what would pass, for each type on its own, and cost no allocation.
/// </summary>
public sealed class WireFormatReaderCacheTests
{
    private static readonly FeatureRecord s_record = new()
    {
        RequestId = "r-1",
        EntityId = "e-1",
        EventTime = Timestamp.FromDateTime(new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc)),
        FeatureSet = "iris",
        Values = { 5.1f, 3.5f, 1.4f, 0.2f },
    };

    private static readonly Prediction s_prediction = new() { RequestId = "r-1", Arm = "a", ModelName = "iris-logreg" };

    [Fact]
    public async Task Decode_AfterValuesOfItsOwnSchema_StillRefusesAnotherMessagesSchema()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var features = fixture.Writer.Encode("features", s_record);
        var predictionOnFeatures = fixture.Writer.Encode("features-of-another-kind", s_prediction);
        fixture.Reader.Decode<FeatureRecord>("features", features);
        fixture.Reader.Decode<FeatureRecord>("features", features);

        var error = Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<FeatureRecord>("features", predictionOnFeatures));

        Assert.Contains("not mesh.v1.FeatureRecord", error.Message);
        Assert.Equal(s_record, fixture.Reader.Decode<FeatureRecord>("features", features));
    }

    [Fact]
    public async Task Decode_TwoMessageTypesInTurn_EachIsCheckedAgainstItsOwnSchema()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var features = fixture.Writer.Encode("features", s_record);
        var predictions = fixture.Writer.Encode("predictions", s_prediction);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(s_record, fixture.Reader.Decode<FeatureRecord>("features", features));
            Assert.Equal(s_prediction, fixture.Reader.Decode<Prediction>("predictions", predictions));
        }

        Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<Prediction>("predictions", features));
        Assert.Throws<UndecodableValueException>(() => fixture.Reader.Decode<FeatureRecord>("features", predictions));
    }

    [Fact]
    public async Task Decode_FramedValuesAfterTheFirst_AllocateNoMoreThanPlainOnes()
    {
        await using var fixture = await RegistryFixture.StartAsync();
        var framed = fixture.Writer.Encode("features", s_record);
        var plain = s_record.ToByteArray();
        fixture.Reader.Decode<FeatureRecord>("features", framed);
        fixture.Reader.Decode<FeatureRecord>("features", plain);

        var plainBytes = AllocatedBy(() => fixture.Reader.Decode<FeatureRecord>("features", plain));
        var framedBytes = AllocatedBy(() => fixture.Reader.Decode<FeatureRecord>("features", framed));

        Assert.True(framedBytes <= plainBytes, $"framed reads allocated {framedBytes} B, plain ones {plainBytes} B");
    }

    private static long AllocatedBy(Action decode)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            decode();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
