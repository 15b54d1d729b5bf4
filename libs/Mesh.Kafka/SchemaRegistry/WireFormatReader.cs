using System.Collections.Concurrent;
using Confluent.SchemaRegistry;
using Google.Protobuf;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// Decodes a mesh topic's values whether they are framed in Confluent's wire format or plain protobuf (a topic can
/// migrate without downtime). The message names of each schema id are fetched once and kept, so reading costs no
/// registry call after the first record of a schema; an id not cached while the registry does not answer waits for it
/// (<see cref="SchemaRegistryOptions.UnavailableRetryMs"/>, then <see cref="SchemaRegistryUnavailableException"/>), and an
/// id the registry does not hold is <see cref="UndecodableValueException"/>. Without a registry, a framed value is read by skipping its header
/// (its schema cannot be checked).
/// </summary>
/// <param name="client">The registry; null reads framed values unchecked.</param>
/// <param name="options">The registry settings.</param>
/// <param name="stopping">Ends a wait for a registry that does not answer (the service's stop).</param>
public sealed class WireFormatReader(ISchemaRegistryClient? client, SchemaRegistryOptions options, CancellationToken stopping = default)
{
    private static int s_nextSlot = -1;

    private readonly ConcurrentDictionary<int, CachedSchema> _schemas = new();

    // Per message type (its slot), the header of the last framed value checked for it: a topic's records carry the
    // same 6 header bytes record after record, and comparing them costs less than reading the header, looking its id
    // up and comparing message names on every record (about 5 % over the plain read, in alternating rounds).
    // Equal bytes are the same schema id and message index path, so they pass the same check. The headers are the
    // cached schemas' own arrays: remembering one allocates nothing.
    private volatile byte[]?[] _checkedHeaders = new byte[]?[8];

    /// <summary>
    /// A reader without a registry: plain values, and framed ones by skipping their header. What a handler uses when
    /// none is given (unit tests, a service without <c>Kafka:SchemaRegistry:Url</c>).
    /// </summary>
    public static WireFormatReader Unchecked { get; } = new(null, new SchemaRegistryOptions());

    /// <summary>
    /// The value as a <typeparamref name="T"/>. Throws <see cref="UndecodableValueException"/> when its schema id is
    /// unknown or names another message, <see cref="InvalidProtocolBufferException"/> when the bytes are not protobuf.
    /// </summary>
    public T Decode<T>(string topic, ReadOnlySpan<byte> value)
        where T : IMessage<T>, new()
    {
        if (!ConfluentWireFormat.IsFramed(value))
        {
            return MessageType<T>.Parser.ParseFrom(value);
        }

        var checkedHeaders = _checkedHeaders;
        var slot = MessageType<T>.Slot;
        if (slot < checkedHeaders.Length && checkedHeaders[slot] is { } header && value.StartsWith(header))
        {
            return MessageType<T>.Parser.ParseFrom(value[header.Length..]);
        }

        return DecodeFramed<T>(topic, value);
    }

    private T DecodeFramed<T>(string topic, ReadOnlySpan<byte> value)
        where T : IMessage<T>, new()
    {
        Span<int> path = stackalloc int[ConfluentWireFormat.MaxMessageDepth];
        if (!ConfluentWireFormat.TryReadHeader(value, out var schemaId, path, out var depth, out var headerLength))
        {
            throw new UndecodableValueException(schemaId, Subject<T>(topic),
                $"the value starts with the wire format's magic byte 0 but its header is cut short or malformed (schema id {schemaId}, subject '{Subject<T>(topic)}').");
        }

        if (client is not null)
        {
            var schema = _schemas.TryGetValue(schemaId, out var known) ? known : Fetch<T>(client, topic, schemaId);
            var expected = MessageType<T>.Descriptor.FullName;
            var actual = schema.Names.Find(path[..depth]);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new UndecodableValueException(schemaId, Subject<T>(topic),
                    $"schema id {schemaId} (subject '{Subject<T>(topic)}') describes {actual ?? "no message at index path [" + string.Join(",", path[..depth].ToArray()) + "]"}, not {expected}.");
            }

            if (value[..headerLength].SequenceEqual(schema.FirstMessageHeader))
            {
                Remember(MessageType<T>.Slot, schema.FirstMessageHeader);
            }
        }

        return MessageType<T>.Parser.ParseFrom(value[headerLength..]);
    }

    private void Remember(int slot, byte[] header)
    {
        var checkedHeaders = _checkedHeaders;
        if (slot >= checkedHeaders.Length)
        {
            // A reader of more message types than slots (mesh.v1 has five): a racing Remember may be lost, which only
            // costs its type the full check until the next one.
            Array.Resize(ref checkedHeaders, Math.Max(slot + 1, checkedHeaders.Length * 2));
            _checkedHeaders = checkedHeaders;
        }

        checkedHeaders[slot] = header;
    }

    private CachedSchema Fetch<T>(ISchemaRegistryClient registry, string topic, int schemaId)
        where T : IMessage<T>, new()
    {
        var schema = FetchWaiting<T>(registry, topic, schemaId);
        var names = schema.SchemaType == SchemaType.Protobuf ? SchemaMessageNames.TryParse(schema.SchemaString) : null;
        if (names is null)
        {
            throw new UndecodableValueException(schemaId, Subject<T>(topic),
                $"schema id {schemaId} (subject '{Subject<T>(topic)}') is a {schema.SchemaType} schema, not a protobuf one the reader can check.");
        }

        var header = new byte[ConfluentWireFormat.GetHeaderLength([0])];
        ConfluentWireFormat.WriteHeader(header, schemaId, [0]);
        var cached = new CachedSchema(names, header);
        _schemas[schemaId] = cached;
        return cached;
    }

    private Schema FetchWaiting<T>(ISchemaRegistryClient registry, string topic, int schemaId)
        where T : IMessage<T>, new()
    {
        var subject = Subject<T>(topic);
        try
        {
            // The registry is down and this id was never cached: the record waits (it is not dead-lettered, the
            // registry may know the id), and past the bound the service fails and restarts from its offsets.
            // The serialized form (base64 FileDescriptorProto) whatever form the schema was registered in.
            return RegistryRetry.Run(() => registry.GetSchemaAsync(schemaId, "serialized").GetAwaiter().GetResult(),
                subject, $"for schema id {schemaId}, subject '{subject}', which is not cached", options, stopping);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40403 || e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new UndecodableValueException(schemaId, subject,
                $"schema id {schemaId} is not in the schema registry (subject '{subject}'): {e.Message}");
        }
        catch (SchemaRegistryException e)
        {
            // Another refusal (say 401 or 403): waiting does not change it; the record is dead-lettered with it.
            throw new UndecodableValueException(schemaId, subject,
                $"schema id {schemaId} (subject '{subject}') is not cached and the schema registry at '{options.Url}' refused it " +
                $"(Kafka:SchemaRegistry:Url): {e.Message}");
        }
    }

    private string Subject<T>(string topic)
        where T : IMessage<T>, new() => SubjectNames.For(options.SubjectNameStrategy, topic, MessageType<T>.Descriptor);

    private static class MessageType<T>
        where T : IMessage<T>, new()
    {
        public static readonly MessageParser<T> Parser = new(() => new T());

        public static readonly Google.Protobuf.Reflection.MessageDescriptor Descriptor = new T().Descriptor;

        /// <summary>This type's index into <see cref="_checkedHeaders"/>, the same in every reader.</summary>
        public static readonly int Slot = Interlocked.Increment(ref s_nextSlot);
    }

    /// <summary>A schema id's message names, and the header of a value of its first message (index path [0]).</summary>
    private sealed record CachedSchema(SchemaMessageNames Names, byte[] FirstMessageHeader);
}
