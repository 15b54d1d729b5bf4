using System.Reflection;
using Confluent.SchemaRegistry;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Benchmarks;

/// <summary>
/// A schema registry client answering from memory: the benchmarks measure framing and reading once ids are cached,
/// which is every record after a topic's first, so no registry is involved on the measured path anyway.
/// </summary>
public class FixedSchemaRegistry : DispatchProxy
{
    public const int SchemaId = 42;

    public static ISchemaRegistryClient Create() => DispatchProxy.Create<ISchemaRegistryClient, FixedSchemaRegistry>();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        nameof(ISchemaRegistryClient.RegisterSchemaAsync) => Task.FromResult(SchemaId),
        nameof(ISchemaRegistryClient.LookupSchemaAsync) => Task.FromResult(new RegisteredSchema((string)args![0]!, 1, SchemaId, ((Schema)args[1]!).SchemaString, SchemaType.Protobuf, [])),
        nameof(ISchemaRegistryClient.GetSchemaAsync) => Task.FromResult(new Schema(ProtobufSchemas.SchemaString(Contracts.V1.FeatureRecord.Descriptor.File), [], SchemaType.Protobuf)),
        _ => throw new NotSupportedException(targetMethod?.Name),
    };
}
