using System.Collections.Concurrent;
using System.Numerics;

namespace Mesh.ModelHost.Inference;

/// <summary>
/// The buffers typed request values are converted into. <see cref="System.Buffers.ArrayPool{T}.Shared"/>
/// keeps arrays up to a gigabyte per core once returned, so one 28 MB request left the host hundreds of
/// megabytes larger for good. This pool keeps only arrays up to <see cref="MaxPooledLength"/> bytes and at
/// most <see cref="MaxRetainedBytes"/> in all; larger buffers are plain allocations the GC takes back.
/// </summary>
internal sealed class TensorBufferPool
{
    private const int SmallestBucketLength = 16;

    private readonly ConcurrentStack<byte[]>[] _buckets;
    private long _retainedBytes;

    public TensorBufferPool(int maxPooledLength, long maxRetainedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPooledLength, SmallestBucketLength);
        MaxPooledLength = (int)BitOperations.RoundUpToPowerOf2((uint)maxPooledLength);
        MaxRetainedBytes = maxRetainedBytes;
        _buckets = new ConcurrentStack<byte[]>[BucketIndex(MaxPooledLength) + 1];
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new ConcurrentStack<byte[]>();
        }
    }

    /// <summary>The pool every request tensor uses: 1 MiB arrays at most, 64 MiB kept in all.</summary>
    public static TensorBufferPool Shared { get; } = new(1 << 20, 64L << 20);

    public int MaxPooledLength { get; }

    public long MaxRetainedBytes { get; }

    /// <summary>Bytes held by the pool now, in arrays waiting to be rented again.</summary>
    public long RetainedBytes => Interlocked.Read(ref _retainedBytes);

    /// <summary>An array of at least <paramref name="length"/> bytes (its contents are undefined).</summary>
    public byte[] Rent(int length)
    {
        if (length > MaxPooledLength)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        var index = BucketIndex(Math.Max(length, SmallestBucketLength));
        if (_buckets[index].TryPop(out var array))
        {
            Interlocked.Add(ref _retainedBytes, -array.Length);
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(SmallestBucketLength << index);
    }

    /// <summary>Keeps <paramref name="array"/> for the next caller, unless it is too large or the pool is full.</summary>
    public void Return(byte[] array)
    {
        if (array.Length > MaxPooledLength || array.Length < SmallestBucketLength || !BitOperations.IsPow2(array.Length))
        {
            return;
        }

        if (Interlocked.Add(ref _retainedBytes, array.Length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref _retainedBytes, -array.Length);
            return;
        }

        _buckets[BucketIndex(array.Length)].Push(array);
    }

    private static int BucketIndex(int length) =>
        BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)length)) - BitOperations.Log2(SmallestBucketLength);
}
