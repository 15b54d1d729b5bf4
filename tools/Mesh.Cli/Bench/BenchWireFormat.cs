using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Cli.Bench;

/// <summary>
/// How the load driver writes features and reads predictions in a scenario: plain protobuf, or framed in Confluent's
/// wire format with its schemas in a registry, through the same writer and reader the services use.
/// </summary>
internal sealed class BenchWireFormat(string name, WireFormatWriter writer, WireFormatReader reader)
{
    public const string PlainName = "plain";

    public const string ConfluentName = "confluent";

    public static BenchWireFormat Plain { get; } = new(PlainName, new WireFormatWriter(null, new SchemaRegistryOptions()), WireFormatReader.Unchecked);

    /// <summary><see cref="PlainName"/> or <see cref="ConfluentName"/>, as the report says it.</summary>
    public string Name => name;

    public WireFormatWriter Writer => writer;

    public WireFormatReader Reader => reader;

    public bool Framed => writer.Enabled;
}
