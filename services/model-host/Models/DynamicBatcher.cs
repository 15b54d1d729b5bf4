using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;
using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Telemetry;

namespace Mesh.ModelHost.Models;

/// <summary>Dynamic batching of one model version (<c>ModelHost:Batching</c>, or <c>dynamicBatching</c> in config.json).</summary>
internal sealed record BatchingSettings(bool Enabled, int MaxBatchSize, int MaxQueueDelayMicroseconds, int MaxQueueSize);

/// <summary>
/// Coalesces concurrent requests to one model version into one ONNX Runtime call: a worker takes the
/// first waiting request, adds the others already queued (and those arriving within the queue delay)
/// up to the maximum batch size in rows, runs once and hands each caller its rows. The queue is bounded:
/// a full queue answers RESOURCE_EXHAUSTED instead of growing without limit.
/// </summary>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    // Below this the wait is spun: timers on Linux do not resolve microseconds.
    private const long SpinBelowMicroseconds = 1000;

    private readonly ServedModel _model;
    private readonly BatchingSettings _settings;
    private readonly ModelHostTelemetry _telemetry;
    private readonly Channel<PendingRequest> _queue;
    private readonly long _delayTicks;
    private readonly Task _worker;
    private int _waiting;

    public DynamicBatcher(ServedModel model, BatchingSettings settings, ModelHostTelemetry telemetry)
    {
        _model = model;
        _settings = settings;
        _telemetry = telemetry;
        _delayTicks = settings.MaxQueueDelayMicroseconds * Stopwatch.Frequency / 1_000_000;
        _queue = Channel.CreateUnbounded<PendingRequest>(new UnboundedChannelOptions { SingleReader = true });
        telemetry.TrackQueue(model.Name, model.Version, () => Volatile.Read(ref _waiting));
        _worker = Task.Factory.StartNew(WorkAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public Task<RunOutput[]> RunAsync(InputTensor[] inputs, long rows)
    {
        // Counted from arrival until its batch starts to run, including requests the worker already
        // holds while it waits for the batch to fill: those are waiting too.
        var pending = new PendingRequest(inputs, rows, Stopwatch.GetTimestamp());
        if (Interlocked.Increment(ref _waiting) > _settings.MaxQueueSize || !_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            throw new InferenceException(
                StatusCode.ResourceExhausted,
                $"model '{_model.Name}' version '{_model.Version}' has {_settings.MaxQueueSize} requests waiting, the most its queue holds (ModelHost:Batching:MaxQueueSize); retry later");
        }

        return pending.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
        _telemetry.UntrackQueue(_model.Name, _model.Version);
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingRequest>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (!reader.TryRead(out var first))
            {
                continue;
            }

            batch.Clear();
            batch.Add(first);
            var rows = first.Rows;
            var deadline = Stopwatch.GetTimestamp() + _delayTicks;
            while (rows < _settings.MaxBatchSize)
            {
                if (reader.TryPeek(out var next))
                {
                    if (rows + next.Rows > _settings.MaxBatchSize)
                    {
                        break;
                    }

                    reader.TryRead(out _);
                    batch.Add(next);
                    rows += next.Rows;
                    continue;
                }

                var remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    break;
                }

                if (remaining * 1_000_000 / Stopwatch.Frequency < SpinBelowMicroseconds)
                {
                    Thread.Yield();
                }
                else
                {
                    await Task.WhenAny(reader.WaitToReadAsync().AsTask(), Task.Delay(TimeSpan.FromTicks(remaining * TimeSpan.TicksPerSecond / Stopwatch.Frequency))).ConfigureAwait(false);
                }
            }

            Execute(batch, rows);
        }
    }

    private void Execute(List<PendingRequest> batch, long rows)
    {
        Interlocked.Add(ref _waiting, -batch.Count);
        var started = Stopwatch.GetTimestamp();
        foreach (var pending in batch)
        {
            _telemetry.RecordQueueWait(_model.Name, _model.Version, Stopwatch.GetElapsedTime(pending.EnqueuedAt, started).TotalSeconds);
        }

        InputTensor[]? combined = null;
        try
        {
            if (batch.Count == 1)
            {
                var outputs = _model.Run(batch[0].Inputs);
                _telemetry.RecordBatch(_model.Name, _model.Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);
                batch[0].TrySetResult(outputs);
                return;
            }

            combined = _model.Concatenate(batch.Select(p => p.Inputs).ToArray(), rows);
            var results = _model.Run(combined);
            _telemetry.RecordBatch(_model.Name, _model.Version, rows, Stopwatch.GetElapsedTime(started).TotalSeconds);
            var split = _model.SplitRows(results, [.. batch.Select(p => p.Rows)]);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].TrySetResult(split[i]);
            }
        }
        catch (Exception e)
        {
            foreach (var pending in batch)
            {
                pending.TrySetException(e);
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
        }
    }

    private sealed class PendingRequest(InputTensor[] inputs, long rows, long enqueuedAt) : TaskCompletionSource<RunOutput[]>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public InputTensor[] Inputs { get; } = inputs;

        public long Rows { get; } = rows;

        public long EnqueuedAt { get; } = enqueuedAt;
    }
}
