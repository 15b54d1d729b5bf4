using Mesh.Router.Batching;

namespace Mesh.Router.Tests;

public sealed class MicroBatcherTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    private sealed class Collector(int expectedItems)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _items;

        public ConcurrentQueue<(int[] Items, BatchCloseReason Reason)> Batches { get; } = new();

        public Task Done => _done.Task;

        public Task Process(Batch<int> batch)
        {
            Batches.Enqueue((batch.Items.ToArray(), batch.Reason));
            if (Interlocked.Add(ref _items, batch.Count) >= expectedItems)
            {
                _done.TrySetResult();
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Add_MaxBatchSizeItems_ClosesOnSize()
    {
        var collector = new Collector(8);
        using var batcher = new MicroBatcher<int>(4, TimeSpan.FromMinutes(10), 4, collector.Process, e => throw e, TimeProvider.System);

        for (var i = 0; i < 8; i++)
        {
            batcher.Add(i, CancellationToken.None);
        }

        await collector.Done.WaitAsync(s_patience);
        var batches = collector.Batches.ToList();
        Assert.Equal(2, batches.Count);
        Assert.All(batches, b => Assert.Equal(BatchCloseReason.Size, b.Reason));
        Assert.Equal(Enumerable.Range(0, 8), batches.SelectMany(b => b.Items).Order());
    }

    [Fact]
    public async Task Add_FewerItemsThanMaxBatchSize_ClosesOnDeadline()
    {
        var time = new FakeTimeProvider();
        var collector = new Collector(3);
        using var batcher = new MicroBatcher<int>(64, TimeSpan.FromMilliseconds(5), 4, collector.Process, e => throw e, time);

        batcher.Add(1, CancellationToken.None);
        batcher.Add(2, CancellationToken.None);
        batcher.Add(3, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(4));
        Assert.Empty(collector.Batches);

        // The batch's deadline passes on the fake clock: the timer closes it, whatever the machine's load.
        time.Advance(TimeSpan.FromMilliseconds(1));
        await collector.Done.WaitAsync(s_patience);
        var batch = Assert.Single(collector.Batches);
        Assert.Equal(BatchCloseReason.Deadline, batch.Reason);
        Assert.Equal([1, 2, 3], batch.Items);
    }

    [Fact]
    public async Task CloseIfIdle_NoBatchBeingProcessed_SendsTheOpenBatchBeforeItsDeadline()
    {
        var time = new FakeTimeProvider();
        var collector = new Collector(2);
        using var batcher = new MicroBatcher<int>(64, TimeSpan.FromMilliseconds(5), 4, collector.Process, e => throw e, time);

        batcher.Add(1, CancellationToken.None);
        batcher.Add(2, CancellationToken.None);

        // The clock never moves: only the idle close can send the batch.
        Assert.True(batcher.CloseIfIdle());
        await collector.Done.WaitAsync(s_patience);
        var batch = Assert.Single(collector.Batches);
        Assert.Equal(BatchCloseReason.Idle, batch.Reason);
        Assert.Equal([1, 2], batch.Items);
        Assert.False(batcher.CloseIfIdle());
    }

    [Fact]
    public async Task CloseIfIdle_ABatchBeingProcessed_TheOpenBatchKeepsFillingUntilItsSize()
    {
        var time = new FakeTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new ConcurrentQueue<(int[] Items, BatchCloseReason Reason)>();
        using var batcher = new MicroBatcher<int>(3, TimeSpan.FromMilliseconds(5), 4, async batch =>
        {
            batches.Enqueue((batch.Items.ToArray(), batch.Reason));
            started.TrySetResult();
            await release.Task;
        }, e => throw e, time);

        batcher.Add(0, CancellationToken.None);
        Assert.True(batcher.CloseIfIdle());
        await started.Task.WaitAsync(s_patience);

        // The first batch is still being processed: the next one is not sent early, it fills to its size.
        batcher.Add(1, CancellationToken.None);
        Assert.False(batcher.CloseIfIdle());
        batcher.Add(2, CancellationToken.None);
        Assert.False(batcher.CloseIfIdle());
        batcher.Add(3, CancellationToken.None);
        release.SetResult();
        await batcher.DrainAsync().WaitAsync(s_patience);

        Assert.Equal([([0], BatchCloseReason.Idle), ([1, 2, 3], BatchCloseReason.Size)], batches.Select(b => (b.Items, b.Reason)).ToArray(), new BatchComparer());
    }

    private sealed class BatchComparer : IEqualityComparer<(int[] Items, BatchCloseReason Reason)>
    {
        public bool Equals((int[] Items, BatchCloseReason Reason) x, (int[] Items, BatchCloseReason Reason) y) => x.Reason == y.Reason && x.Items.SequenceEqual(y.Items);

        public int GetHashCode((int[] Items, BatchCloseReason Reason) obj) => obj.Reason.GetHashCode();
    }

    [Fact]
    public async Task Add_ManyItemsWithConcurrentSlowBatches_NeverLosesOrDuplicatesItems()
    {
        const int Count = 2_000;
        var seen = new ConcurrentBag<int>();
        using var batcher = new MicroBatcher<int>(7, TimeSpan.FromMilliseconds(1), 3, async batch =>
        {
            var items = batch.Items.ToArray();
            await Task.Delay(items[0] % 3);
            foreach (var item in items)
            {
                seen.Add(item);
            }
        }, e => throw e, TimeProvider.System);

        for (var i = 0; i < Count; i++)
        {
            batcher.Add(i, CancellationToken.None);
        }

        await batcher.DrainAsync().WaitAsync(s_patience);
        Assert.Equal(Enumerable.Range(0, Count), seen.Order());
    }

    [Fact]
    public async Task Add_AllBatchesInFlight_BlocksTheCaller()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processed = new ConcurrentBag<int>();
        var time = new FakeTimeProvider();
        using var batcher = new MicroBatcher<int>(1, TimeSpan.FromMinutes(10), 1, async batch =>
        {
            processed.Add(batch[0]);
            await release.Task;
        }, e => throw e, time);
        batcher.Add(1, CancellationToken.None);

        // The only slot is held by the first batch, so this Add must wait until cancelled rather than buffer.
        Assert.False(batcher.TryAdd(2, TimeSpan.Zero, CancellationToken.None));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300), time);
        var blocked = Task.Run(() => batcher.Add(2, cancel.Token));
        time.Advance(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(s_patience));

        release.SetResult();
        batcher.Add(3, CancellationToken.None);
        await batcher.DrainAsync().WaitAsync(s_patience);
        Assert.Equal([1, 3], processed.Order());
    }

    [Fact]
    public async Task DrainAsync_OpenBatch_ProcessesItWithoutWaitingForTheDeadline()
    {
        var collector = new Collector(2);
        using var batcher = new MicroBatcher<int>(64, TimeSpan.FromMinutes(10), 2, collector.Process, e => throw e, TimeProvider.System);
        batcher.Add(1, CancellationToken.None);
        batcher.Add(2, CancellationToken.None);

        await batcher.DrainAsync().WaitAsync(s_patience);

        var batch = Assert.Single(collector.Batches);
        Assert.Equal(BatchCloseReason.Flush, batch.Reason);
        Assert.Equal([1, 2], batch.Items);
    }
}
