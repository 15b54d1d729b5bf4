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

    // "00-" + 32 hex digits + "-" + 16 hex digits + "-" + 2 flag digits.
    private const int TraceParentLength = 55;

    private static readonly byte[] s_schemaVersionBytes = Encoding.ASCII.GetBytes(CurrentSchemaVersion);

    /// <summary>The content type of a message type, e.g. <c>application/x-protobuf; messageType=mesh.v1.Prediction</c>.</summary>
    public static string ContentTypeOf<T>()
        where T : IMessage<T>, new() => Encoding.ASCII.GetString(ContentTypeCache<T>.Bytes);

    /// <summary>Builds the headers of a record of type <typeparamref name="T"/>, carrying <paramref name="activity"/>'s trace context.</summary>
    public static Headers Create<T>(Activity? activity)
        where T : IMessage<T>, new()
    {
        var headers = new Headers
        {
            { ContentType, ContentTypeCache<T>.Bytes },
            { SchemaVersion, s_schemaVersionBytes },
        };
        if (activity is not null)
        {
            headers.Add(TraceParent, TraceParentBytes(activity.Context));
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

    public static string FormatTraceParent(ActivityContext context)
    {
        Span<char> text = stackalloc char[TraceParentLength];
        WriteTraceParent(context, text);
        return new string(text);
    }

    /// <summary>
    /// The <c>traceparent</c> header value as ASCII bytes: one 55-byte array per record, where formatting a string
    /// first (interpolation, the hex strings, then the encoding) cost three more allocations on every output.
    /// </summary>
    public static byte[] TraceParentBytes(ActivityContext context)
    {
        Span<char> text = stackalloc char[TraceParentLength];
        WriteTraceParent(context, text);
        var bytes = new byte[TraceParentLength];
        Encoding.ASCII.GetBytes(text, bytes);
        return bytes;
    }

    private static void WriteTraceParent(ActivityContext context, Span<char> text)
    {
        Span<byte> id = stackalloc byte[16];
        "00-".CopyTo(text);
        context.TraceId.CopyTo(id);
        Convert.TryToHexStringLower(id, text[3..35], out _);
        text[35] = '-';
        context.SpanId.CopyTo(id[..8]);
        Convert.TryToHexStringLower(id[..8], text[36..52], out _);
        text[52] = '-';
        text[53] = '0';
        text[54] = (context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? '1' : '0';
    }

    /// <summary>
    /// The content type of <typeparamref name="TMessage"/>, encoded once per message type: the header every output
    /// carries used to build a whole message (maps and lists included) and take a lock to find its name.
    /// </summary>
    private static class ContentTypeCache<TMessage>
        where TMessage : IMessage<TMessage>, new()
    {
        public static readonly byte[] Bytes = Encoding.ASCII.GetBytes($"application/x-protobuf; messageType={new TMessage().Descriptor.FullName}");
    }
}
