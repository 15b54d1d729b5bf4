using Confluent.SchemaRegistry;
using Google.Protobuf.Reflection;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>The subject a topic's values are registered under, as Confluent's serializers name it.</summary>
public static class SubjectNames
{
    public static string For(SubjectNameStrategy strategy, string topic, MessageDescriptor descriptor) => strategy switch
    {
        SubjectNameStrategy.Record => descriptor.FullName,
        SubjectNameStrategy.TopicRecord => $"{topic}-{descriptor.FullName}",
        _ => $"{topic}-value",
    };
}
