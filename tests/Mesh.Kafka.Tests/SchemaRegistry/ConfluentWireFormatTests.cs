namespace Mesh.Kafka.Tests.SchemaRegistry;

public sealed class ConfluentWireFormatTests
{
    [Fact]
    public void WriteHeader_FirstMessageOfFile_IsMagicByteBigEndianIdAndOneZeroByte()
    {
        var header = new byte[ConfluentWireFormat.GetHeaderLength([0])];

        var written = ConfluentWireFormat.WriteHeader(header, 0x01020304, [0]);

        Assert.Equal(6, written);
        Assert.Equal(new byte[] { 0x00, 0x01, 0x02, 0x03, 0x04, 0x00 }, header);
    }

    [Fact]
    public void WriteHeader_NestedPath_WritesCountAndIndexesAsZigZagVarints()
    {
        // [1, 0, 70]: zig-zag 3 -> 6, 1 -> 2, 0 -> 0, 70 -> 140 (two varint bytes 0x8C 0x01).
        int[] path = [1, 0, 70];
        var header = new byte[ConfluentWireFormat.GetHeaderLength(path)];

        var written = ConfluentWireFormat.WriteHeader(header, 7, path);

        Assert.Equal(header.Length, written);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x07, 0x06, 0x02, 0x00, 0x8C, 0x01 }, header);
    }

    [Theory]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 3 })]
    [InlineData(new[] { 0, 2 })]
    [InlineData(new[] { 1, 0, 70 })]
    public void TryReadHeader_WhatWriteHeaderWrote_GivesBackIdPathAndPayloadStart(int[] path)
    {
        var value = new byte[ConfluentWireFormat.GetHeaderLength(path) + 2];
        var headerLength = ConfluentWireFormat.WriteHeader(value, 123456, path);
        Span<int> read = stackalloc int[ConfluentWireFormat.MaxMessageDepth];

        Assert.True(ConfluentWireFormat.TryReadHeader(value, out var id, read, out var depth, out var length));

        Assert.Equal(123456, id);
        Assert.Equal(path, read[..depth].ToArray());
        Assert.Equal(headerLength, length);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x01 })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x02 })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x01, 0x80 })]
    public void TryReadHeader_CutShort_IsFalse(byte[] value)
    {
        Span<int> read = stackalloc int[ConfluentWireFormat.MaxMessageDepth];

        Assert.False(ConfluentWireFormat.TryReadHeader(value, out _, read, out _, out _));
    }

    [Fact]
    public void IsFramed_PlainProtobufOfEveryMeshMessage_IsFalse()
    {
        // Field numbers start at 1, so a protobuf message's first byte (a tag) is never 0.
        IMessage[] messages =
        [
            new FeatureRecord { RequestId = "r" },
            new Prediction { Arm = "a" },
            new Label { Value = "setosa" },
            new DeadLetter { ErrorClass = "decode" },
        ];

        Assert.All(messages, m => Assert.False(ConfluentWireFormat.IsFramed(m.ToByteArray())));
        Assert.False(ConfluentWireFormat.IsFramed([]));
    }

    [Fact]
    public void MessageIndexes_TopLevelAndNestedMessages_FollowTheirFiles()
    {
        Assert.Equal([0], ProtobufSchemas.MessageIndexes(FeatureRecord.Descriptor));
        Assert.Equal([1], ProtobufSchemas.MessageIndexes(PredictionOutput.Descriptor));
        Assert.Equal([2], ProtobufSchemas.MessageIndexes(Latency.Descriptor));
    }
}
