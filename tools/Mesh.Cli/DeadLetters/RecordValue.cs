using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.Cli.DeadLetters;

/// <summary>What the tool needs to know about a dead letter's original bytes without caring which mesh message they are.</summary>
internal static class RecordValue
{
    private const int RequestIdTag = (1 << 3) | (int)WireFormat.WireType.LengthDelimited;
    private static readonly JsonFormatter s_json = new(JsonFormatter.Settings.Default);

    /// <summary>
    /// The request id: field 1, a string, in FeatureRecord, Prediction and Label alike, so it is read straight off
    /// the wire. Empty when the bytes carry none or are not protobuf at all.
    /// </summary>
    public static string RequestId(ByteString value) => RequestId(value.ToByteArray());

    /// <inheritdoc cref="RequestId(ByteString)"/>
    public static string RequestId(byte[]? value)
    {
        if (value is null)
        {
            return "";
        }

        try
        {
            var input = new CodedInputStream(value);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (tag == RequestIdTag)
                {
                    return input.ReadString();
                }

                input.SkipLastField();
            }
        }
        catch (InvalidProtocolBufferException)
        {
        }

        return "";
    }

    /// <summary>A one-line view of the value for a sample: JSON when the content-type header names a mesh message, else its size.</summary>
    public static string Describe(DeadLetter letter, int maxLength = 160)
    {
        if (letter.OmittedValueBytes > 0)
        {
            return $"(omitted: {letter.OmittedValueBytes} bytes, too large for a dead letter; at {letter.SourceTopic}[{letter.Partition}]@{letter.Offset})";
        }

        var type = letter.Headers.TryGetValue("content-type", out var header) ? header.ToStringUtf8() : "";
        string text;
        try
        {
            IMessage? message = type switch
            {
                _ when type.EndsWith("messageType=mesh.v1.FeatureRecord", StringComparison.Ordinal) => FeatureRecord.Parser.ParseFrom(letter.Value),
                _ when type.EndsWith("messageType=mesh.v1.Prediction", StringComparison.Ordinal) => Prediction.Parser.ParseFrom(letter.Value),
                _ when type.EndsWith("messageType=mesh.v1.Label", StringComparison.Ordinal) => Label.Parser.ParseFrom(letter.Value),
                _ => null,
            };
            text = message is null ? $"{letter.Value.Length} bytes" : s_json.Format(message);
        }
        catch (InvalidProtocolBufferException)
        {
            text = $"{letter.Value.Length} bytes (not the {type} it claims)";
        }

        return text.Length <= maxLength ? text : string.Concat(text.AsSpan(0, maxLength - 1), "…");
    }
}
