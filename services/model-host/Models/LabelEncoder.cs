using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Mesh.ModelHost.Models;

/// <summary>
/// A classifier's class names, and the v2 BYTES encoding of the winning class per row. Each name is
/// pre-encoded as one BYTES element (4-byte little-endian length + UTF-8), so encoding N labels is N block copies.
/// </summary>
internal sealed class LabelEncoder(IReadOnlyList<string> classNames)
{
    // Below this many rows the label winners live on the stack.
    private const int StackRowLimit = 256;

    private readonly byte[][] _encodedClassNames = [.. classNames.Select(EncodeBytesElement)];

    public IReadOnlyList<string> ClassNames { get; } = [.. classNames];

    /// <summary>The class names as a JSON array, sent as the <c>class_names</c> response parameter.</summary>
    public string ClassNamesJson { get; } = JsonSerializer.Serialize(classNames);

    /// <summary>The v2 BYTES encoding of the class with the highest probability in each row.</summary>
    public byte[] EncodeLabels(byte[] probabilities, int rows)
    {
        var classes = _encodedClassNames.Length;
        var scores = MemoryMarshal.Cast<byte, float>(probabilities.AsSpan());
        int[]? rented = null;
        var winners = rows <= StackRowLimit ? stackalloc int[rows] : (rented = ArrayPool<int>.Shared.Rent(rows)).AsSpan(0, rows);
        try
        {
            var total = 0;
            for (var row = 0; row < rows; row++)
            {
                var rowScores = scores.Slice(row * classes, classes);
                var best = 0;
                for (var c = 1; c < classes; c++)
                {
                    if (rowScores[c] > rowScores[best])
                    {
                        best = c;
                    }
                }

                winners[row] = best;
                total += _encodedClassNames[best].Length;
            }

            var encoded = GC.AllocateUninitializedArray<byte>(total);
            var offset = 0;
            foreach (var winner in winners)
            {
                var element = _encodedClassNames[winner];
                element.CopyTo(encoded, offset);
                offset += element.Length;
            }

            return encoded;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private static byte[] EncodeBytesElement(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        var element = new byte[sizeof(int) + utf8.Length];
        BinaryPrimitives.WriteInt32LittleEndian(element, utf8.Length);
        utf8.CopyTo(element, sizeof(int));
        return element;
    }
}
