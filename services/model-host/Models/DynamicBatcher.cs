using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Telemetry;

namespace Mesh.ModelHost.Models;

/// <summary>
/// Dynamic batching of one model version (<c>ModelHost:Batching</c>, or <c>dynamicBatching</c> in config.json).
/// <paramref name="MaxConcurrentBatches"/> is how many batches of this version may run at the same time.
/// </summary>
internal sealed record BatchingSettings(bool Enabled, int MaxBatchSize, int MaxQueueDelayMicroseconds, int MaxQueueSize, int MaxConcurrentBatches = 1);

/// <summary>
/// Coalesces concurrent requests to one model version into one ONNX Runtime call, the way Triton's dynamic
/// batcher does: a worker takes every request already queued (greedily, up to the maximum batch size in
/// rows), and only when that leaves the batch short does it wait, up to the queue delay counted from the
/// oldest request's arrival, for more. Requests that arrive while a batch runs form the next batch, so
/// under load batches fill without any waiting. The worker never spins: while request handlers are
/// runnable it yields its thread to them (they are what brings more requests), otherwise it sleeps
/// until the next request arrives or the delay ends. Each caller is completed with its own rows, on
/// the thread pool rather than on the worker, so the next batch starts at once.
/// The queue is bounded: a full queue answers RESOURCE_EXHAUSTED instead of growing without limit.
/// </summary>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly ServedModel _model;
    private readonly BatchingSettings _settings;
    private readonly ModelHostTelemetry _telemetry;
    private readonly Channel<PendingRequest> _queue;
    private readonly long _delayTicks;
    private readonly Task[] _workers;
    private int _waiting;

    public DynamicBatcher(ServedModel model, BatchingSettings settings, ModelHostTelemetry telemetry)
    {
        _model = model;
        _settings = settings;
        _telemetry = telemetry;
        _delayTicks = settings.MaxQueueDelayMicroseconds * Stopwatch.Frequency / 1_000_000;
        var workers = Math.Max(1, settings.MaxConcurrentBatches);
        _queue = Channel.CreateUnbounded<PendingRequest>(new UnboundedChannelOptions { SingleReader = workers == 1 });
        telemetry.TrackQueue(model.Name, model.Version, () => Volatile.Read(ref _waiting));
        _workers = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    public Task<RunOutput[]> RunAsync(InputTensor[] inputs, long rows)
    {
        // Counted from arrival until its batch starts to run, including requests a worker already holds
        // while it waits for the batch to fill: those are waiting too.
        if (Interlocked.Increment(ref _waiting) > _settings.MaxQueueSize)
        {
            Interlocked.Decrement(ref _waiting);
            throw new InferenceException(
                StatusCode.ResourceExhausted,
                $"model '{_model.Name}' version '{_model.Version}' has {_settings.MaxQueueSize} requests waiting, the most its queue holds (ModelHost:Batching:MaxQueueSize); retry later");
        }

        var pending = new PendingRequest(inputs, rows, Stopwatch.GetTimestamp());
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            throw new InferenceException(StatusCode.Unavailable, $"model '{_model.Name}' version '{_model.Version}' is being unloaded; retry");
        }

        return pending.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _telemetry.UntrackQueue(_model.Name, _model.Version);
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new Batch();

        // A request read that no longer fits the batch being built opens the next one.
        PendingRequest? carried = null;
        using var timeout = new ArrivalTimeout();
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            if (carried is not null)
            {
                batch.Add(carried);
                carried = null;
            }

            carried = TakeQueued(reader, batch);
            if (batch.Count == 0)
            {
                // Another worker took what woke this one.
                continue;
            }

            if (carried is null && batch.Rows < _settings.MaxBatchSize && _delayTicks > 0)
            {
                carried = await FillAsync(reader, batch, batch.OldestEnqueuedAt + _delayTicks, timeout).ConfigureAwait(false);
            }

            Execute(batch);
        }
    }

    /// <summary>Adds what is queued now, up to the batch size; returns a request that did not fit.</summary>
    private PendingRequest? TakeQueued(ChannelReader<PendingRequest> reader, Batch batch)
    {
        while (batch.Rows < _settings.MaxBatchSize && reader.TryRead(out var next))
        {
            // The first request always runs, however large; later ones only while the batch has room.
            if (batch.Count > 0 && batch.Rows + next.Rows > _settings.MaxBatchSize)
            {
                return next;
            }

            batch.Add(next);
        }

        return null;
    }

    /// <summary>Waits, without spinning, for more requests until the batch is full or the deadline passes.</summary>
    private async Task<PendingRequest?> FillAsync(ChannelReader<PendingRequest> reader, Batch batch, long deadline, ArrivalTimeout timeout)
    {
        while (batch.Rows < _settings.MaxBatchSize)
        {
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return null;
            }

            if (ThreadPool.PendingWorkItemCount > 0)
            {
                // Runnable work (requests being received and decoded among it) goes first; this worker
                // comes back behind it. On two cores a worker that held its thread here would keep out
                // the very requests it waits for.
                await Task.Yield();
            }
            else if (!await timeout.WaitAsync(reader, remaining).ConfigureAwait(false))
            {
                // The queue is closing: run what is held.
                return null;
            }

            if (TakeQueued(reader, batch) is { } carried)
            {
                return carried;
            }
        }

        return null;
    }

    private void Execute(Batch batch)
    {
        var count = batch.Count;
        var rows = batch.Rows;
        var requests = batch.Requests;
        Interlocked.Add(ref _waiting, -count);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            _telemetry.RecordQueueWait(_model.Name, _model.Version, Stopwatch.GetElapsedTime(requests[i].EnqueuedAt, started).TotalSeconds);
        }

        InputTensor[]? combined = null;
        try
        {
            if (count == 1)
            {
                var outputs = _model.Run(requests[0].Inputs);
                _telemetry.RecordBatch(_model.Name, _model.Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);
                requests[0].TrySetResult(outputs);
                return;
            }

            var inputs = new InputTensor[count][];
            var rowCounts = new long[count];
            for (var i = 0; i < count; i++)
            {
                inputs[i] = requests[i].Inputs;
                rowCounts[i] = requests[i].Rows;
            }

            combined = _model.Concatenate(inputs, rows);
            var results = _model.Run(combined);
            _telemetry.RecordBatch(_model.Name, _model.Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);
            var split = _model.SplitRows(results, rowCounts);
            for (var i = 0; i < count; i++)
            {
                requests[i].TrySetResult(split[i]);
            }
        }
        catch (Exception e)
        {
            for (var i = 0; i < count; i++)
            {
                requests[i].TrySetException(e);
            }
        }
        finally
        {
            if (combined is not null)
            {
                foreach (var input in combined)
                {
                    input.Dispose();
                }
            }

            batch.Clear();
        }
    }

    /// <summary>The requests of one batch, in arrival order; reused by its worker from batch to batch.</summary>
    private sealed class Batch
    {
        public List<PendingRequest> Requests { get; } = [];

        public int Count => Requests.Count;

        public long Rows { get; private set; }

        public long OldestEnqueuedAt => Requests[0].EnqueuedAt;

        public void Add(PendingRequest request)
        {
            Requests.Add(request);
            Rows += request.Rows;
        }

        public void Clear()
        {
            Requests.Clear();
            Rows = 0;
        }
    }

    /// <summary>
    /// Sleeps until a request arrives or a time passes. Timers resolve milliseconds, so a shorter
    /// remainder sleeps one millisecond at most, and an arrival ends the sleep at once.
    /// </summary>
    private sealed class ArrivalTimeout : IDisposable
    {
        private CancellationTokenSource _source = new();

        /// <summary>
        /// False once the queue is closed; true when a request may be waiting or the time passed (timers run
        /// on a coarser clock and may end a little early: the caller checks its deadline again).
        /// </summary>
        public async Task<bool> WaitAsync(ChannelReader<PendingRequest> reader, long remainingTicks)
        {
            if (!_source.TryReset())
            {
                _source.Dispose();
                _source = new CancellationTokenSource();
            }

            var milliseconds = Math.Max(1, (long)Math.Ceiling(remainingTicks * 1000.0 / Stopwatch.Frequency));
            _source.CancelAfter(TimeSpan.FromMilliseconds(milliseconds));
            var wait = reader.WaitToReadAsync(_source.Token).AsTask();
            await ((Task)wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return !wait.IsCompletedSuccessfully || wait.Result;
        }

        public void Dispose() => _source.Dispose();
    }

    private sealed class PendingRequest(InputTensor[] inputs, long rows, long enqueuedAt) : TaskCompletionSource<RunOutput[]>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public InputTensor[] Inputs { get; } = inputs;

        public long Rows { get; } = rows;

        public long EnqueuedAt { get; } = enqueuedAt;
    }
}
