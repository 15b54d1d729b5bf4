using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>
/// Finds the fields of a Prediction's wire form that this build does not know (added by a newer router), so
/// the JSON sink can keep them instead of silently dropping them.
/// </summary>
internal static class UnknownFields
{
    private static readonly bool[] s_known = BuildKnown();

    /// <summary>The unknown fields' bytes (tags and values, in wire order), or null when every field is known.</summary>
    public static byte[]? Extract(ArraySegment<byte> raw)
    {
        if (raw.Count == 0)
        {
            return null;
        }

        // Positions are indexes into the whole array, from raw.Offset on.
        var input = new CodedInputStream(raw.Array!, raw.Offset, raw.Count);
        List<(int Start, int End)>? ranges = null;
        var start = raw.Offset;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            input.SkipLastField();
            var end = (int)input.Position;
            if (number >= s_known.Length || !s_known[number])
            {
                (ranges ??= []).Add((start, end));
            }

            start = end;
        }

        if (ranges is null)
        {
            return null;
        }

        var bytes = new byte[ranges.Sum(r => r.End - r.Start)];
        var at = 0;
        foreach (var (s, e) in ranges)
        {
            raw.Array.AsSpan(s, e - s).CopyTo(bytes.AsSpan(at));
            at += e - s;
        }

        return bytes;
    }

    private static bool[] BuildKnown()
    {
        var fields = Prediction.Descriptor.Fields.InFieldNumberOrder();
        var known = new bool[fields[^1].FieldNumber + 1];
        foreach (var field in fields)
        {
            known[field.FieldNumber] = true;
        }

        return known;
    }
}
