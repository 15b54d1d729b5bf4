using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Google.Protobuf;

namespace Mesh.Kafka;

/// <summary>
/// The headers every mesh record carries: W3C <c>traceparent</c>, the content type with the protobuf message
/// type name, and the schema version.
/// </summary>
public static class MeshHeaders
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const string ContentType = "content-type";
    public const string SchemaVersion = "mesh-schema-version";
    public const string CurrentSchemaVersion = "1";

    /// <summary>A replayed record's dead-letter coordinates, <c>&lt;topic&gt;/&lt;partition&gt;/&lt;offset&gt;</c> (<c>mesh dead-letters replay</c>).</summary>
    public const string Replay = "mesh-replay";

    /// <summary>Which attempt a replayed record is (ASCII digits): a service that fails it again dead-letters it with that attempt.</summary>
    public const string ReplayAttempt = "mesh-replay-attempt";

    private static readonly byte[] s_schemaVersionBytes = Encoding.ASCII.GetBytes(CurrentSchemaVersion);
    private static readonly Dictionary<string, byte[]> s_contentTypes = new();
    private static readonly object s_gate = new();

    /// <summary>The content type of a message type, e.g. <c>application/x-protobuf; messageType=mesh.v1.Prediction</c>.</summary>
    public static string ContentTypeOf<T>()
        where T : IMessage<T>, new() => Encoding.ASCII.GetString(ContentTypeBytes<T>());

    /// <summary>Builds the headers of a record of type <typeparamref name="T"/>, carrying <paramref name="activity"/>'s trace context.</summary>
    public static Headers Create<T>(Activity? activity)
        where T : IMessage<T>, new()
    {
        var headers = new Headers
        {
            { ContentType, ContentTypeBytes<T>() },
            { SchemaVersion, s_schemaVersionBytes },
        };
        if (activity is not null)
        {
            headers.Add(TraceParent, Encoding.ASCII.GetBytes(FormatTraceParent(activity.Context)));
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                headers.Add(TraceState, Encoding.ASCII.GetBytes(activity.TraceStateString));
            }
        }

        return headers;
    }

    /// <summary>Reads the W3C trace context a record carries; default when it carries none or an invalid one.</summary>
    public static ActivityContext ExtractTraceContext(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(TraceParent, out var bytes))
        {
            return default;
        }

        string? state = headers.TryGetLastBytes(TraceState, out var stateBytes) ? Encoding.ASCII.GetString(stateBytes) : null;
        return ActivityContext.TryParse(Encoding.ASCII.GetString(bytes), state, isRemote: true, out var context)
            ? context
            : default;
    }

    /// <summary>The header value as text, or null.</summary>
    public static string? GetString(Headers? headers, string key) =>
        headers is not null && headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    public static string FormatTraceParent(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    private static byte[] ContentTypeBytes<T>()
        where T : IMessage<T>, new()
    {
        var name = new T().Descriptor.FullName;
        lock (s_gate)
        {
            if (!s_contentTypes.TryGetValue(name, out var bytes))
            {
                bytes = Encoding.ASCII.GetBytes($"application/x-protobuf; messageType={name}");
                s_contentTypes[name] = bytes;
            }

            return bytes;
        }
    }
}
