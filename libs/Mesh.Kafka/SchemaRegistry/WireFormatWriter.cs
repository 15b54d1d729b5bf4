using System.Collections.Concurrent;
using Confluent.SchemaRegistry;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// Frames the values a service writes in Confluent's wire format when a registry is configured, and writes them plain
/// when not. Each topic's header (magic byte, schema id, message index path) is built once, at start for the topics
/// a service declares (<see cref="RegisterAsync"/>) or on first use, and kept: a record costs one array of exactly
/// header plus message size, as many as <c>ToByteArray</c>, and no registry call, so a registry that goes down
/// mid-stream stops nothing already registered. A topic registered on first use while the registry does not answer
/// waits for it, up to <see cref="SchemaRegistryOptions.UnavailableRetryMs"/> (<see cref="SchemaRegistryUnavailableException"/>).
/// </summary>
/// <param name="client">The registry; null writes plain values.</param>
/// <param name="options">The registry settings.</param>
/// <param name="stopping">Ends a wait for a registry that does not answer (the service's stop).</param>
public sealed class WireFormatWriter(ISchemaRegistryClient? client, SchemaRegistryOptions options, CancellationToken stopping = default)
{
    private readonly ConcurrentDictionary<(string Topic, MessageDescriptor Descriptor), byte[]> _headers = new();

    // The header used last: a service writes one type to one topic (the same string instance) record after record,
    // and two reference compares cost less than hashing the topic name for the dictionary on every record.
    private volatile LastHeader? _last;

    /// <summary>Whether values are framed (a registry is configured).</summary>
    public bool Enabled => client is not null;

    /// <summary>The bytes to put before the message's bytes on this topic: empty when values are written plain.</summary>
    public ReadOnlySpan<byte> Header(string topic, MessageDescriptor descriptor)
    {
        if (client is null)
        {
            return default;
        }

        if (_last is { } last && ReferenceEquals(last.Topic, topic) && ReferenceEquals(last.Descriptor, descriptor))
        {
            return last.Header;
        }

        if (_headers.TryGetValue((topic, descriptor), out var header))
        {
            _last = new LastHeader(topic, descriptor, header);
            return header;
        }

        // A topic nobody declared at start: register now, holding the record (it is never written unframed) while a
        // registry that does not answer is waited for.
        RegisterWaiting(new MeshSchema(topic, descriptor));
        return _headers[(topic, descriptor)];
    }

    /// <summary>The value to produce for this message on this topic.</summary>
    public byte[] Encode(string topic, IMessage message)
    {
        var header = Header(topic, message.Descriptor);
        var value = new byte[header.Length + message.CalculateSize()];
        header.CopyTo(value);
        message.WriteTo(value.AsSpan(header.Length));
        return value;
    }

    /// <summary>
    /// Registers the topic's schema with its imports (or only looks it up when <c>AutoRegister</c> is off) and keeps
    /// its header. Throws <see cref="SchemaRegistrationException"/> when the registry refuses it.
    /// </summary>
    public async Task<RegisteredSchema> RegisterAsync(MeshSchema schema, CancellationToken cancellationToken)
    {
        if (client is null)
        {
            throw new InvalidOperationException($"{SchemaRegistryOptions.SectionName}:Url is not set: there is no registry to register {schema.Descriptor.FullName} in.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var subject = SubjectNames.For(options.SubjectNameStrategy, schema.Topic, schema.Descriptor);
        var registered = await ProtobufSchemas.RegisterOrLookUpAsync(client, subject, schema.Descriptor, options.AutoRegister).ConfigureAwait(false);
        var indexes = ProtobufSchemas.MessageIndexes(schema.Descriptor);
        var header = new byte[ConfluentWireFormat.GetHeaderLength(indexes)];
        ConfluentWireFormat.WriteHeader(header, registered.Id, indexes);
        _headers[(schema.Topic, schema.Descriptor)] = header;
        // A registration again (the schema's id may have changed) must not leave an older header in the one-entry cache.
        _last = null;
        return registered;
    }

    private void RegisterWaiting(MeshSchema schema)
    {
        var subject = SubjectNames.For(options.SubjectNameStrategy, schema.Topic, schema.Descriptor);
        try
        {
            RegistryRetry.Run(() => RegisterAsync(schema, stopping).GetAwaiter().GetResult(),
                subject, $"to register subject '{subject}' ({schema.Descriptor.FullName})", options, stopping);
        }
        catch (Exception e) when (e is not (SchemaRegistrationException or SchemaRegistryUnavailableException or OperationCanceledException))
        {
            throw new SchemaRegistrationException(subject,
                $"{SchemaRegistryOptions.SectionName}:Url: the schema registry at '{options.Url}' failed registering " +
                $"subject '{subject}' ({schema.Descriptor.FullName}): {e.Message}", e);
        }
    }

    private sealed record LastHeader(string Topic, MessageDescriptor Descriptor, byte[] Header);
}
