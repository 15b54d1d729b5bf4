using Confluent.SchemaRegistry;
using Google.Protobuf.Reflection;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// How a .proto file is put in the registry, the way Confluent's own protobuf serializers do it: the file as a
/// base64 serialized FileDescriptorProto (which the registry accepts in place of .proto text), each import registered
/// first under a subject named after its path (google/protobuf/timestamp.proto), and referenced by that name.
/// </summary>
public static class ProtobufSchemas
{
    /// <summary>The schema string of a file: its serialized descriptor, base64.</summary>
    public static string SchemaString(FileDescriptor file) => file.SerializedData.ToBase64();

    /// <summary>The message's index path in its file (top-level index, then nested indexes).</summary>
    public static int[] MessageIndexes(MessageDescriptor descriptor)
    {
        var path = new List<int>();
        var current = descriptor;
        while (current.ContainingType is { } parent)
        {
            path.Add(IndexOf(parent.NestedTypes, current));
            current = parent;
        }

        path.Add(IndexOf(current.File.MessageTypes, current));
        path.Reverse();
        return [.. path];
    }

    /// <summary>
    /// Registers (or, without <paramref name="register"/>, looks up) the file's imports, depth first, and returns the
    /// references of the file's schema.
    /// </summary>
    public static async Task<List<SchemaReference>> ResolveReferencesAsync(ISchemaRegistryClient client, FileDescriptor file, bool register)
    {
        var references = new List<SchemaReference>();
        foreach (var dependency in file.Dependencies)
        {
            var schema = new Schema(SchemaString(dependency), await ResolveReferencesAsync(client, dependency, register).ConfigureAwait(false), SchemaType.Protobuf);
            if (register)
            {
                await client.RegisterSchemaAsync(dependency.Name, schema).ConfigureAwait(false);
            }

            var registered = await client.LookupSchemaAsync(dependency.Name, schema, ignoreDeletedSchemas: true).ConfigureAwait(false);
            references.Add(new SchemaReference(dependency.Name, dependency.Name, registered.Version));
        }

        return references;
    }

    /// <summary>The file's schema, its imports resolved (registered first when <paramref name="register"/>).</summary>
    public static async Task<Schema> ForFileAsync(ISchemaRegistryClient client, FileDescriptor file, bool register) =>
        new(SchemaString(file), await ResolveReferencesAsync(client, file, register).ConfigureAwait(false), SchemaType.Protobuf);

    /// <summary>
    /// Registers the message's file under the subject with its imports (or, without <paramref name="register"/>, looks
    /// it up) and returns it with its id and version. Throws <see cref="SchemaRegistrationException"/> when the
    /// registry refuses it as incompatible or invalid, or does not hold it when only looking up.
    /// </summary>
    public static async Task<RegisteredSchema> RegisterOrLookUpAsync(ISchemaRegistryClient client, string subject, MessageDescriptor descriptor, bool register)
    {
        var file = descriptor.File.Name;
        try
        {
            var schema = await ForFileAsync(client, descriptor.File, register).ConfigureAwait(false);
            if (register)
            {
                await client.RegisterSchemaAsync(subject, schema).ConfigureAwait(false);
            }

            return await client.LookupSchemaAsync(subject, schema, ignoreDeletedSchemas: true).ConfigureAwait(false);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 409 || e.ErrorCode / 100 == 422)
        {
            throw new SchemaRegistrationException(subject,
                $"the schema registry refused {file} ({descriptor.FullName}) under subject '{subject}': {e.Message}", e);
        }
        catch (SchemaRegistryException e) when (!register && e.ErrorCode is 40401 or 40403)
        {
            throw new SchemaRegistrationException(subject,
                $"subject '{subject}' does not hold {file} ({descriptor.FullName}) and {SchemaRegistryOptions.SectionName}:AutoRegister is false: " +
                $"register it first (mesh schemas register). The registry said: {e.Message}", e);
        }
    }

    private static int IndexOf(IList<MessageDescriptor> messages, MessageDescriptor message)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] == message)
            {
                return i;
            }
        }

        throw new ArgumentException($"{message.FullName} is not in its own file's descriptor.", nameof(message));
    }
}
