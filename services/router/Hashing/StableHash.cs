using System.Buffers;
using System.Text;

namespace Mesh.Router.Hashing;

/// <summary>
/// 32-bit FNV-1a. Assignment must not change between processes, restarts or .NET versions, which rules out
/// <see cref="string.GetHashCode()"/> (randomized per process).
/// </summary>
internal static class StableHash
{
    public const uint Seed = 2166136261;
    private const uint Prime = 16777619;
    private const int StackLimit = 256;

    public static uint Append(uint hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * Prime;
        }

        return hash;
    }

    /// <summary>Continues <paramref name="hash"/> over the UTF-8 bytes of <paramref name="text"/> without allocating.</summary>
    public static uint AppendUtf8(uint hash, string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            return Append(hash, buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
