using System.Collections.Concurrent;
using Grpc.Core;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Telemetry;

namespace Mesh.ModelHost.Batching;

/// <summary>
/// Coalesces concurrent requests to one model version into one ONNX Runtime call, the way Triton's dynamic
/// batcher does. A worker takes every request already queued (greedily, up to the maximum batch size in
/// rows); only when that leaves the batch short does it wait, up to the queue delay counted from the
/// oldest request's arrival, for more. Requests that arrive while a batch runs form the next batch, so
/// under load batches fill without any waiting.
/// <para>
/// Workers are threads of their own, woken by the request that arrives, never spinning: a worker that
/// waited for the thread pool would queue behind the very request handlers it serves (on two cores that
/// cost milliseconds per batch). A delay of a millisecond or more is slept, until the next arrival or the
/// delay ends; a shorter one is below what timers resolve, so it is only waited out while request
/// handlers are at work (their requests wake the worker as they arrive), and otherwise the batch runs.
/// Each caller is completed with its own rows on the thread pool, so the worker goes on to the next batch.
/// </para>
/// The queue is bounded: a full queue answers RESOURCE_EXHAUSTED instead of growing without limit.
/// <para>
/// Arrival times, the queue delay and its timer come from the <see cref="TimeProvider"/> given, so a test
/// can move the clock instead of waiting on it.
/// </para>
/// </summary>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly string _modelName;
    private readonly string _modelVersion;
    private readonly IModelRunner _runner;
    private readonly RowBatcher _rows;
    private readonly BatchingSettings _settings;
    private readonly ModelHostTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<PendingRequest> _queue = new();
    private readonly long _delayTicks;

    // Timers (and so timed waits) resolve milliseconds.
    private readonly long _timerTicks;
    private readonly Thread[] _workers;

    // Set by an arriving request when the forming worker sleeps; no spinning before it blocks.
    private readonly ManualResetEventSlim _arrived = new(initialState: false, spinCount: 0);

    // One batch forms at a time (as Triton's scheduler forms batches for all of a model's instances):
    // workers forming side by side would split the arrivals between them and each wait out the delay.
    // Whoever holds it is the queue's only reader, and the only one that sleeps on _arrived.
    private readonly Lock _forming = new();

    private int _sleeping;
    private int _waiting;
    private volatile bool _closed;

    public DynamicBatcher(
        string modelName,
        string modelVersion,
        IModelRunner runner,
        RowBatcher rows,
        BatchingSettings settings,
        ModelHostTelemetry telemetry,
        TimeProvider time)
    {
        _modelName = modelName;
        _modelVersion = modelVersion;
        _runner = runner;
        _rows = rows;
        _settings = settings;
        _telemetry = telemetry;
        _time = time;
        _delayTicks = settings.MaxQueueDelayMicroseconds * time.TimestampFrequency / 1_000_000;
        _timerTicks = time.TimestampFrequency / 1000;
        telemetry.TrackQueue(modelName, modelVersion, () => Volatile.Read(ref _waiting));
        _workers = new Thread[Math.Max(1, settings.MaxConcurrentBatches)];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"batcher {modelName} v{modelVersion} #{i}" };
            _workers[i].Start();
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
                $"model '{_modelName}' version '{_modelVersion}' has {_settings.MaxQueueSize} requests waiting, the most its queue holds (ModelHost:Batching:MaxQueueSize); retry later");
        }

        if (_closed)
        {
            Interlocked.Decrement(ref _waiting);
            throw new InferenceException(StatusCode.Unavailable, $"model '{_modelName}' version '{_modelVersion}' is being unloaded; retry");
        }

        var pending = new PendingRequest(inputs, rows, _time.GetTimestamp());
        _queue.Enqueue(pending);

        // The fence keeps this read after the enqueue: either the worker about to sleep sees the request
        // (it checks the queue again after saying it sleeps) or this sees it sleeping and wakes it.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) != 0)
        {
            _arrived.Set();
        }

        return pending.Task;
    }

    public async ValueTask DisposeAsync()
    {
        // Workers run what is queued, then end.
        _closed = true;
        _arrived.Set();
        await Task.Run(() =>
        {
            foreach (var worker in _workers)
            {
                worker.Join();
            }
        }).ConfigureAwait(false);

        // A request that slipped in as the workers ended must not wait forever (leases make this rare:
        // a version is disposed once no request holds it).
        while (_queue.TryDequeue(out var stranded))
        {
            Interlocked.Decrement(ref _waiting);
            stranded.TrySetException(new InferenceException(StatusCode.Unavailable, $"model '{_modelName}' version '{_modelVersion}' was unloaded; retry"));
        }

        _arrived.Dispose();
        _telemetry.UntrackQueue(_modelName, _modelVersion);
    }

    private void Work()
    {
        var batch = new Batch();
        while (true)
        {
            lock (_forming)
            {
                while (_queue.IsEmpty)
                {
                    if (_closed)
                    {
                        return;
                    }

                    SleepUntilArrival(Timeout.Infinite, null);
                }

                TakeQueued(batch);
                if (batch.Rows < _settings.MaxBatchSize && _delayTicks > 0)
                {
                    Fill(batch, batch.OldestEnqueuedAt + _delayTicks);
                }
            }

            // Another worker may form the next batch while this one runs.
            Execute(batch);
        }
    }

    /// <summary>Adds what is queued now, up to the batch size; false when the next request does not fit.</summary>
    private bool TakeQueued(Batch batch)
    {
        while (_queue.TryPeek(out var next))
        {
            // The first request always runs, however large; later ones only while the batch has room.
            if (batch.Count > 0 && batch.Rows + next.Rows > _settings.MaxBatchSize)
            {
                return false;
            }

            _queue.TryDequeue(out _);
            batch.Add(next);
        }

        return true;
    }

    /// <summary>Waits, without spinning, for more requests until the batch is full or the deadline passes.</summary>
    private void Fill(Batch batch, long deadline)
    {
        if (_delayTicks >= _timerTicks)
        {
            FillUntilTimer(batch, deadline);
            return;
        }

        while (batch.Rows < _settings.MaxBatchSize)
        {
            var remaining = deadline - _time.GetTimestamp();
            if (remaining <= 0 || _closed)
            {
                return;
            }

            int milliseconds;
            if (ThreadPool.PendingWorkItemCount > 0)
            {
                // Request handlers are at work: the next arrival wakes this worker at once, the timer only
                // ends a wait that no arrival ended.
                milliseconds = 1;
            }
            else
            {
                // Nothing is on its way that a sub-millisecond delay could still catch.
                return;
            }

            SleepUntilArrival(milliseconds, null);
            if (!TakeQueued(batch))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Sleeps until a request arrives or a timer of the clock says the deadline passed. The timer is what
    /// ends the wait (not a re-read of the clock), so a timer that fires a little early cannot leave the
    /// batch waiting for an arrival that never comes.
    /// </summary>
    private void FillUntilTimer(Batch batch, long deadline)
    {
        var remaining = deadline - _time.GetTimestamp();
        if (remaining <= 0)
        {
            return;
        }

        var expiry = new Expiry(_arrived);
        using var timer = _time.CreateTimer(static state => ((Expiry)state!).Pass(), expiry, TimeSpan.FromTicks(remaining * TimeSpan.TicksPerSecond / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
        while (batch.Rows < _settings.MaxBatchSize && !expiry.Passed && !_closed)
        {
            SleepUntilArrival(Timeout.Infinite, expiry);
            if (!TakeQueued(batch))
            {
                return;
            }
        }
    }

    private void SleepUntilArrival(int milliseconds, Expiry? expiry)
    {
        _arrived.Reset();
        Volatile.Write(ref _sleeping, 1);
        Interlocked.MemoryBarrier();
        if (_queue.IsEmpty && !_closed && expiry?.Passed != true)
        {
            _arrived.Wait(milliseconds);
        }

        Volatile.Write(ref _sleeping, 0);
    }

    private void Execute(Batch batch)
    {
        var count = batch.Count;
        var rows = batch.Rows;
        var requests = batch.Requests;
        Interlocked.Add(ref _waiting, -count);
        var started = _time.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            _telemetry.RecordQueueWait(_modelName, _modelVersion, _time.GetElapsedTime(requests[i].EnqueuedAt, started).TotalSeconds);
        }

        InputTensor[]? combined = null;
        try
        {
            if (count == 1)
            {
                var outputs = _runner.Run(requests[0].Inputs);
                _telemetry.RecordBatch(_modelName, _modelVersion, rows, _time.GetElapsedTime(started).TotalSeconds);
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

            combined = _rows.Concatenate(inputs, rows);
            var results = _runner.Run(combined);
            _telemetry.RecordBatch(_modelName, _modelVersion, rows, _time.GetElapsedTime(started).TotalSeconds);
            var split = _rows.SplitRows(results, rowCounts);
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

    /// <summary>The deadline of one batch's wait, set by its timer; a late callback of an earlier timer only wakes the worker.</summary>
    private sealed class Expiry(ManualResetEventSlim arrived)
    {
        private volatile bool _passed;

        public bool Passed => _passed;

        public void Pass()
        {
            _passed = true;
            try
            {
                arrived.Set();
            }
            catch (ObjectDisposedException)
            {
                // A callback that was already on its way when the batcher shut down: nobody waits any more.
            }
        }
    }

    // Completed on the thread pool: the worker goes on to the next batch instead of running each
    // caller's response on its own thread.
    private sealed class PendingRequest(InputTensor[] inputs, long rows, long enqueuedAt) : TaskCompletionSource<RunOutput[]>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public InputTensor[] Inputs { get; } = inputs;

        public long Rows { get; } = rows;

        public long EnqueuedAt { get; } = enqueuedAt;
    }
}
