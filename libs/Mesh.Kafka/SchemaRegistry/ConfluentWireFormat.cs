namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// Confluent's wire format for protobuf values: the magic byte 0, the schema id as 4 bytes big-endian, the message
/// index path (which message of the schema's file, nested types included) as zig-zag varints, then the protobuf
/// bytes. The path is its length followed by its entries, except that the path [0] (the file's first message, the
/// common case) is the single byte 0. A protobuf message never starts with 0x00 (field number 0 is invalid), so the
/// first byte tells a framed value from a plain one.
/// </summary>
public static class ConfluentWireFormat
{
    public const byte MagicByte = 0;

    /// <summary>Nested messages deeper than this are not framed or read (mesh.v1 nests none).</summary>
    public const int MaxMessageDepth = 16;

    private const int SchemaIdEnd = 5;

    /// <summary>Whether the value starts with the magic byte (an empty value is a plain, empty message).</summary>
    public static bool IsFramed(ReadOnlySpan<byte> value) => value.Length > 0 && value[0] == MagicByte;

    /// <summary>The bytes <see cref="WriteHeader"/> writes for this path.</summary>
    public static int GetHeaderLength(ReadOnlySpan<int> messageIndexes)
    {
        if (IsFirstMessage(messageIndexes))
        {
            return SchemaIdEnd + 1;
        }

        var length = SchemaIdEnd + VarintLength(ZigZag(messageIndexes.Length));
        foreach (var index in messageIndexes)
        {
            length += VarintLength(ZigZag(index));
        }

        return length;
    }

    /// <summary>Writes the header into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, int schemaId, ReadOnlySpan<int> messageIndexes)
    {
        if (messageIndexes.IsEmpty || messageIndexes.Length > MaxMessageDepth)
        {
            throw new ArgumentOutOfRangeException(nameof(messageIndexes), $"a message index path has 1 to {MaxMessageDepth} entries.");
        }

        destination[0] = MagicByte;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(destination[1..], schemaId);
        var position = SchemaIdEnd;
        if (IsFirstMessage(messageIndexes))
        {
            destination[position] = 0;
            return position + 1;
        }

        position += WriteVarint(destination[position..], ZigZag(messageIndexes.Length));
        foreach (var index in messageIndexes)
        {
            position += WriteVarint(destination[position..], ZigZag(index));
        }

        return position;
    }

    /// <summary>
    /// Reads a framed value's header: the schema id, the message index path into <paramref name="messageIndexes"/>
    /// (at least <see cref="MaxMessageDepth"/> long) and where the protobuf bytes start. False when it is cut short or
    /// malformed (the schema id is still set when its 4 bytes are there, -1 otherwise).
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> value, out int schemaId, Span<int> messageIndexes, out int depth, out int headerLength)
    {
        depth = 0;
        headerLength = 0;
        schemaId = -1;
        if (value.Length < SchemaIdEnd + 1 || value[0] != MagicByte)
        {
            return false;
        }

        schemaId = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(value[1..]);
        var position = SchemaIdEnd;
        if (!TryReadVarint(value, ref position, out var count))
        {
            return false;
        }

        var length = UnZigZag(count);
        if (length < 0 || length > MaxMessageDepth)
        {
            return false;
        }

        if (length == 0)
        {
            messageIndexes[0] = 0;
            depth = 1;
            headerLength = position;
            return true;
        }

        for (var i = 0; i < length; i++)
        {
            if (!TryReadVarint(value, ref position, out var raw) || UnZigZag(raw) < 0)
            {
                return false;
            }

            messageIndexes[i] = UnZigZag(raw);
        }

        depth = length;
        headerLength = position;
        return true;
    }

    private static bool IsFirstMessage(ReadOnlySpan<int> messageIndexes) => messageIndexes.Length == 1 && messageIndexes[0] == 0;

    private static uint ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    private static int UnZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);

    private static int VarintLength(uint value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    private static int WriteVarint(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> value, ref int position, out uint result)
    {
        result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (position >= value.Length)
            {
                return false;
            }

            var b = value[position++];
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
