using System.Diagnostics;
using Mesh.Contracts.V1;
using Mesh.Kafka;

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
}
