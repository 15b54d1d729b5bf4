namespace Mesh.Kafka.Tests;

public sealed class MeshHeadersTests
{
    [Fact]
    public void Create_WithActivity_CarriesTraceParentContentTypeAndSchemaVersion()
    {
        using var activity = new Activity("test").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.ActivityTraceFlags = ActivityTraceFlags.Recorded;

        var headers = MeshHeaders.Create<Prediction>(activity);

        Assert.Equal("application/x-protobuf; messageType=mesh.v1.Prediction", MeshHeaders.GetString(headers, MeshHeaders.ContentType));
        Assert.Equal("1", MeshHeaders.GetString(headers, MeshHeaders.SchemaVersion));
        var context = MeshHeaders.ExtractTraceContext(headers);
        Assert.Equal(activity.TraceId, context.TraceId);
        Assert.Equal(activity.SpanId, context.SpanId);
        Assert.True(context.IsRemote);
    }

    [Fact]
    public void ExtractTraceContext_MalformedHeader_ReturnsDefault()
    {
        var headers = new Confluent.Kafka.Headers { { MeshHeaders.TraceParent, "not-a-traceparent"u8.ToArray() } };

        Assert.Equal(default, MeshHeaders.ExtractTraceContext(headers));
        Assert.Equal(default, MeshHeaders.ExtractTraceContext(null));
    }

    [Theory]
    [InlineData(ActivityTraceFlags.Recorded, "01")]
    [InlineData(ActivityTraceFlags.None, "00")]
    public void TraceParentBytes_Context_IsTheW3CHeaderInAscii(ActivityTraceFlags flags, string expectedFlags)
    {
        var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags);

        var bytes = MeshHeaders.TraceParentBytes(context);

        var expected = $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{expectedFlags}";
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(bytes));
        Assert.Equal(expected, MeshHeaders.FormatTraceParent(context));
    }

    [Fact]
    public void TraceParentBytes_Context_AllocatesOnlyTheHeaderValue()
    {
        var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        MeshHeaders.TraceParentBytes(context);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var bytes = MeshHeaders.TraceParentBytes(context);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The 55-byte array and its object header: no string of the header on the way.
        Assert.Equal(55, bytes.Length);
        Assert.InRange(allocated, 1, 96);
    }

    [Fact]
    public void Create_PerRecord_BuildsNoMessageToFindItsContentType()
    {
        MeshHeaders.Create<Prediction>(null);
        MeshHeaders.Create<DeadLetter>(null);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var headers = MeshHeaders.Create<Prediction>(null);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The Headers, its list and two Header objects; a throwaway Prediction (maps and lists) cost several hundred more.
        Assert.InRange(allocated, 1, 256);
        Assert.Equal("application/x-protobuf; messageType=mesh.v1.Prediction", MeshHeaders.GetString(headers, MeshHeaders.ContentType));
        Assert.Equal("application/x-protobuf; messageType=mesh.v1.DeadLetter", MeshHeaders.ContentTypeOf<DeadLetter>());
    }
}
