namespace Mesh.ModelHost.Tests;

/// <summary>What the request buffer pool keeps after requests return their buffers.</summary>
public sealed class TensorBufferPoolTests
{
    [Fact]
    public void Dispose_TwentyEightMegabyteTypedTensor_SharedPoolKeepsNoneOfIt()
    {
        var before = TensorBufferPool.Shared.RetainedBytes;
        using (var tensor = new InputTensor("x", "FP32", [7_000_000, 1]))
        {
            tensor.RentTyped(7_000_000, sizeof(float), "contents.fp32_contents").Fill(1);
        }

        // Other tests return small buffers meanwhile; none of them comes near the 28 MB of this one.
        Assert.True(TensorBufferPool.Shared.RetainedBytes - before < TensorBufferPool.Shared.MaxPooledLength, $"the pool kept {TensorBufferPool.Shared.RetainedBytes - before} more bytes");
        Assert.True(TensorBufferPool.Shared.RetainedBytes <= TensorBufferPool.Shared.MaxRetainedBytes);
    }

    [Fact]
    public void Return_MoreThanTheBound_RetainsAtMostTheBoundAndReusesWhatItKeeps()
    {
        var pool = new TensorBufferPool(maxPooledLength: 1024, maxRetainedBytes: 4096);
        var rented = Enumerable.Range(0, 10).Select(_ => pool.Rent(1000)).ToList();

        rented.ForEach(pool.Return);
        var again = pool.Rent(1000);

        Assert.All(rented, array => Assert.Equal(1024, array.Length));
        Assert.Contains(rented, array => ReferenceEquals(array, again));
        Assert.Equal(3072, pool.RetainedBytes);
    }

    [Fact]
    public void Return_ArrayLargerThanPooledLength_NotRetained()
    {
        var pool = new TensorBufferPool(maxPooledLength: 1024, maxRetainedBytes: 1 << 20);

        var large = pool.Rent(28 << 20);
        pool.Return(large);

        Assert.Equal(28 << 20, large.Length);
        Assert.Equal(0, pool.RetainedBytes);
    }
}
