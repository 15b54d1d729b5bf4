using Google.Protobuf.Reflection;

namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>
/// The stand-in registry's protobuf compatibility check, after the rules of Confluent's ProtobufSchema difference
/// checker: a new schema may add or remove fields and messages' fields (proto3 fields are optional), but not remove a
/// message, change the package, or change a field's kind (scalar/message/enum), scalar type, named type or label.
/// Confluent also accepts changes inside its wire-compatible type groups (int32/uint32/int64/uint64/bool,
/// string/bytes, ...); the stand-in refuses every scalar type change, which is stricter and what the tests need.
/// </summary>
public static class ProtobufBackwardCompatibility
{
    /// <summary>The differences that make <paramref name="next"/> unable to read data written with <paramref name="previous"/>; empty when compatible.</summary>
    public static IReadOnlyList<string> Incompatibilities(FileDescriptorProto previous, FileDescriptorProto next)
    {
        var problems = new List<string>();
        if (previous.Package != next.Package)
        {
            problems.Add($"{{errorType:'PACKAGE_CHANGED', description:'The package at '#/' in the new schema does not match the package in the old schema'}}");
        }

        var nextMessages = Flatten(next.MessageType, "");
        foreach (var (path, message) in Flatten(previous.MessageType, ""))
        {
            if (!nextMessages.TryGetValue(path, out var counterpart))
            {
                problems.Add($"{{errorType:'MESSAGE_REMOVED', description:'The new schema is missing a message at path '#/{path}' in the old schema'}}");
                continue;
            }

            foreach (var field in message.Field)
            {
                var other = counterpart.Field.FirstOrDefault(f => f.Number == field.Number);
                if (other is null)
                {
                    continue;
                }

                var at = $"#/{path}/{field.Number}";
                if (Kind(field) != Kind(other))
                {
                    problems.Add($"{{errorType:'FIELD_KIND_CHANGED', description:'The kind of the field at path '{at}' in the new schema does not match its kind in the old schema'}}");
                }
                else if (Kind(field) == "SCALAR" && field.Type != other.Type)
                {
                    problems.Add($"{{errorType:'FIELD_SCALAR_KIND_CHANGED', description:'The kind of a SCALAR field at path '{at}' in the new schema does not match its kind in the old schema'}}");
                }
                else if (Kind(field) != "SCALAR" && field.TypeName != other.TypeName)
                {
                    problems.Add($"{{errorType:'FIELD_NAMED_TYPE_CHANGED', description:'The type of a MESSAGE field at path '{at}' in the new schema does not match its type in the old schema'}}");
                }
                else if (field.Label != other.Label)
                {
                    problems.Add($"{{errorType:'FIELD_NUMERIC_LABEL_CHANGED', description:'The label of the field at path '{at}' in the new schema does not match its label in the old schema'}}");
                }
            }
        }

        return problems;
    }

    private static string Kind(FieldDescriptorProto field) => field.Type switch
    {
        FieldDescriptorProto.Types.Type.Message or FieldDescriptorProto.Types.Type.Group => "MESSAGE",
        FieldDescriptorProto.Types.Type.Enum => "ENUM",
        _ => "SCALAR",
    };

    private static Dictionary<string, DescriptorProto> Flatten(IEnumerable<DescriptorProto> messages, string prefix)
    {
        var all = new Dictionary<string, DescriptorProto>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            var path = prefix + message.Name;
            all[path] = message;
            foreach (var nested in Flatten(message.NestedType, path + "."))
            {
                all[nested.Key] = nested.Value;
            }
        }

        return all;
    }
}
