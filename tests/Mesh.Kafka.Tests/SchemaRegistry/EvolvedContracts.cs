using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mesh.Contracts.V1;

namespace Mesh.Kafka.Tests.SchemaRegistry;

/// <summary>
/// Writer-side versions of mesh/v1/features.proto that this build's readers do not know, built as descriptors at run
/// time from the real file's descriptor: what an upstream team's next release would register.
/// </summary>
internal static class EvolvedContracts
{
    /// <summary>The number of the field <see cref="FeatureRecordWithSource"/> adds.</summary>
    public const int SourceFieldNumber = 8;

    /// <summary>FeatureRecord with <c>string source = 8;</c> added: a BACKWARD-compatible change.</summary>
    public static MessageDescriptor FeatureRecordWithSource() => Build(m => m.Field.Add(new FieldDescriptorProto
    {
        Name = "source",
        JsonName = "source",
        Number = SourceFieldNumber,
        Label = FieldDescriptorProto.Types.Label.Optional,
        Type = FieldDescriptorProto.Types.Type.String,
    }));

    /// <summary>FeatureRecord with <c>values</c> (field 5) turned from repeated float into repeated string: incompatible.</summary>
    public static MessageDescriptor FeatureRecordWithStringValues() =>
        Build(m => m.Field.Single(f => f.Number == 5).Type = FieldDescriptorProto.Types.Type.String);

    /// <summary>A FeatureRecord's bytes followed by the added <c>source</c> field, as the evolved writer would encode it.</summary>
    public static byte[] EncodeWithSource(FeatureRecord record, string source)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        record.WriteTo(output);
        output.WriteTag(SourceFieldNumber, WireFormat.WireType.LengthDelimited);
        output.WriteString(source);
        output.Flush();
        return stream.ToArray();
    }

    private static MessageDescriptor Build(Action<DescriptorProto> change)
    {
        var file = FileDescriptorProto.Parser.ParseFrom(FeatureRecord.Descriptor.File.SerializedData);
        change(file.MessageType.Single(m => m.Name == nameof(FeatureRecord)));
        var built = FileDescriptor.BuildFromByteStrings([Google.Protobuf.WellKnownTypes.Timestamp.Descriptor.File.SerializedData, file.ToByteString()]);
        return built[^1].MessageTypes.Single(m => m.Name == nameof(FeatureRecord));
    }
}
