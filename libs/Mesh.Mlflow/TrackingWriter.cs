using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;

namespace Mesh.Mlflow;

/// <summary>
/// Writes <see cref="TrackingRecord"/>s to MLflow (or the local folder) in the background, so tracking never
/// slows the caller: <see cref="TryEnqueue"/> never blocks. Records wait in a bounded buffer while the
/// destination is down and are written, in order, when it returns; what does not fit is dropped and counted.
/// Records of the same run taken in one round are merged into one <c>log-batch</c> (split at MLflow's limits).
/// </summary>
public sealed class TrackingWriter : IAsyncDisposable
{
    /// <summary>The tag that identifies a run across restarts.</summary>
    public const string RunKeyTag = "mesh.run_key";

    /// <summary>The tag naming the start of the writer (<see cref="TrackingWriterOptions.StartId"/>) that made a run.</summary>
    public const string StartIdTag = "mesh.start_id";

    /// <summary>The tag naming the process that writes a run (<see cref="TrackingWriterOptions.InstanceId"/>).</summary>
    public const string InstanceIdTag = "mesh.instance_id";

    /// <summary>The tag a live start renews on its runs: the time of its last heartbeat, in Unix milliseconds.</summary>
    public const string HeartbeatTag = "mesh.heartbeat_ms";

    private readonly IMlflowTracking _tracking;
    private readonly TrackingWriterOptions _options;
    private readonly Channel<TrackingRecord> _buffer;
    private readonly ConcurrentDictionary<string, string> _experimentIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _runIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _paramsLogged = new(StringComparer.Ordinal);
    // Only the loop touches these: when each run last got a heartbeat, and when the next heartbeat and sweep are due.
    private readonly Dictionary<string, long> _beats = new(StringComparer.Ordinal);
    private readonly RunSweeper _sweeper;
    private long _nextBeat;
    private long _nextSweep;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _accepted;
    private long _written;
    private long _dropped;
    private long _failed;
    private long _killed;
    private int _ended;
    private int _overflowing;

    /// <summary>
    /// The tracking server's ids of the run <paramref name="runKey"/> of <paramref name="experiment"/> writes to, once
    /// the writer has created or found it (false before its first record was written).
    /// </summary>
    public bool TryGetRun(string experiment, string runKey, out string experimentId, out string runId)
    {
        runId = "";
        return _experimentIds.TryGetValue(experiment, out experimentId!) && _runIds.TryGetValue(experiment + "\n" + runKey, out runId!);
    }

    /// <summary>Starts the background writer.</summary>
    public TrackingWriter(IMlflowTracking tracking, TrackingWriterOptions? options = null)
    {
        _tracking = tracking;
        _options = options ?? new TrackingWriterOptions();
        _sweeper = new RunSweeper(tracking, _options);
        _nextSweep = _options.Time.GetUtcNow().ToUnixTimeMilliseconds() + (long)_options.StaleAfter.TotalMilliseconds;
        _buffer = Channel.CreateBounded<TrackingRecord>(new BoundedChannelOptions(Math.Max(1, _options.Capacity))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Where records go.</summary>
    public string Destination => _tracking.Destination;

    /// <summary>Records accepted into the buffer.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Records written.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Records dropped because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records the destination refused as malformed (not retried).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>This start's id, or null when run keys continue across restarts.</summary>
    public string? StartId => _options.StartId;

    /// <summary>Runs an earlier start left RUNNING that this one ended KILLED.</summary>
    public long RunsKilled => Interlocked.Read(ref _killed);

    /// <summary>Records accepted and not yet written or refused.</summary>
    public long Pending => Accepted - Written - Failed;

    /// <summary>Queues a record without waiting; false (and counted in <see cref="Dropped"/>) when the buffer is full.</summary>
    public bool TryEnqueue(TrackingRecord record)
    {
        if (_buffer.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _accepted);
            Volatile.Write(ref _overflowing, 0);
            return true;
        }

        var dropped = Interlocked.Increment(ref _dropped);
        if (Interlocked.Exchange(ref _overflowing, 1) == 0)
        {
            _options.OnOverflow?.Invoke(dropped);
        }

        return false;
    }

    /// <summary>Waits until every accepted record is written or refused, or <paramref name="cancellationToken"/> fires.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (Pending > 0 && !_loop.IsCompleted)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops taking records, writes what is buffered within <paramref name="timeout"/>, then stops.</summary>
    /// <remarks>
    /// With a <see cref="TrackingWriterOptions.StartId"/>, the runs it wrote are then ended FINISHED.
    /// </remarks>
    public async Task CompleteAsync(TimeSpan timeout)
    {
        _buffer.Writer.TryComplete();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _loop.WaitAsync(deadline.Token).ConfigureAwait(false);
            // Once: a host stops the writer and then disposes it.
            if (_options.StartId is not null && Interlocked.Exchange(ref _ended, 1) == 0)
            {
                await EndRunsAsync(MlflowRunStatus.Finished, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The destination is still down: what is left is lost with the process; Pending says how much. Runs
            // not ended here stay RUNNING until the next start ends them KILLED.
        }
        catch (Exception e) when (e is MlflowException or IOException or HttpRequestException or UnauthorizedAccessException)
        {
            // Stopping must not fail because the destination did: the next start ends what is left KILLED.
            _options.OnError?.Invoke(e, false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CompleteAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        var round = new List<TrackingRecord>();
        var delay = _options.RetryDelay;
        var failing = false;
        while (await WaitForWorkAsync(token).ConfigureAwait(false))
        {
            await BeatIfDueAsync(token).ConfigureAwait(false);
            while (round.Count < _options.MaxRecordsPerRound && _buffer.Reader.TryRead(out var record))
            {
                round.Add(record);
            }

            // Keep trying the same round until it is written: later records wait in the buffer, so order holds.
            while (round.Count > 0)
            {
                try
                {
                    await WriteRoundAsync(round, token).ConfigureAwait(false);
                    Interlocked.Add(ref _written, round.Count);
                    if (failing)
                    {
                        failing = false;
                        _options.OnRecovered?.Invoke();
                    }

                    delay = _options.RetryDelay;
                    break;
                }
                catch (MlflowResourceNotFoundException e)
                {
                    // The run or experiment was deleted in MLflow meanwhile: find or create them afresh, then retry.
                    _runIds.Clear();
                    _experimentIds.Clear();
                    _paramsLogged.Clear();
                    failing = true;
                    _options.OnError?.Invoke(e, true);
                }
                catch (Exception e) when (IsPermanent(e))
                {
                    Interlocked.Add(ref _failed, round.Count);
                    _options.OnError?.Invoke(e, false);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    failing = true;
                    _options.OnError?.Invoke(e, true);
                    await Task.Delay(delay, token).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
                }
            }

            round.Clear();
        }
    }

    private async Task WriteRoundAsync(List<TrackingRecord> round, CancellationToken token)
    {
        foreach (var run in round.GroupBy(r => (r.Experiment, r.RunKey)))
        {
            var first = run.First();
            var runId = await RunIdAsync(first, token).ConfigureAwait(false);
            var parameters = _paramsLogged.Contains(runId) ? [] : run.SelectMany(r => r.Params).DistinctBy(p => p.Key).ToList();
            // Only the latest value of a tag matters, and MLflow refuses duplicate keys in some stores.
            var tags = run.SelectMany(r => r.Tags).Reverse().DistinctBy(t => t.Key).Reverse().ToList();
            var metrics = run.SelectMany(r => r.Metrics).ToList();
            var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
            if (_options.StartId is not null)
            {
                // A write is a heartbeat too: a run written every window needs no separate one.
                tags.Add(new(HeartbeatTag, now.ToString(CultureInfo.InvariantCulture)));
            }

            await _tracking.LogBatchAsync(runId, metrics, parameters, tags, token).ConfigureAwait(false);
            _paramsLogged.Add(runId);
            _beats[runId] = now;
        }
    }

    private async Task<string> RunIdAsync(TrackingRecord record, CancellationToken token)
    {
        var key = record.Experiment + "\n" + record.RunKey;
        if (_runIds.TryGetValue(key, out var cached))
        {
            return cached;
        }

        if (!_experimentIds.TryGetValue(record.Experiment, out var experimentId))
        {
            experimentId = await _tracking.GetOrCreateExperimentAsync(record.Experiment, token).ConfigureAwait(false);
            if (_options.StartId is not null)
            {
                Interlocked.Add(ref _killed, await _sweeper.SweepAsync(experimentId, token).ConfigureAwait(false));
            }

            _experimentIds[record.Experiment] = experimentId;
        }

        // Without a start id a restarted writer continues the run it was writing; with one, the key holds the start.
        var runKey = _options.StartId is { } start ? record.RunKey + "@" + start : record.RunKey;
        var filter = $"tags.`{RunKeyTag}` = '{runKey.Replace("'", "''", StringComparison.Ordinal)}'";
        var found = await _tracking.SearchRunsAsync([experimentId], filter, 1, null, token).ConfigureAwait(false);
        List<MlflowKeyValue> tags = [new(RunKeyTag, runKey)];
        if (_options.StartId is { } id)
        {
            tags.Add(new(StartIdTag, id));
            tags.Add(new(HeartbeatTag, _options.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));
            if (_options.InstanceId is { } instance)
            {
                tags.Add(new(InstanceIdTag, instance));
            }
        }

        var runId = found.Runs.Count > 0
            ? found.Runs[0].Info.RunId
            : (await _tracking.CreateRunAsync(experimentId, record.RunName, tags, token).ConfigureAwait(false)).RunId;
        _runIds[key] = runId;
        return runId;
    }

    // Wakes for records, or, while this start has runs to keep alive, when their heartbeat is due; false once the
    // buffer is completed and empty.
    private async Task<bool> WaitForWorkAsync(CancellationToken token)
    {
        if (_options.StartId is null || _runIds.IsEmpty)
        {
            return await _buffer.Reader.WaitToReadAsync(token).ConfigureAwait(false);
        }

        if (_buffer.Reader.Completion.IsCompleted)
        {
            return false;
        }

        var due = _nextBeat - _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (due <= 0)
        {
            return true;
        }

        using var wake = CancellationTokenSource.CreateLinkedTokenSource(token);
        var read = _buffer.Reader.WaitToReadAsync(wake.Token).AsTask();
        var beat = Task.Delay(TimeSpan.FromMilliseconds(due), _options.Time, wake.Token);
        var first = await Task.WhenAny(read, beat).ConfigureAwait(false);
        await wake.CancelAsync().ConfigureAwait(false);
        token.ThrowIfCancellationRequested();
        return first == read ? await read.ConfigureAwait(false) : true;
    }

    // Renews the heartbeat of each run not written to for an interval, and now and then ends what dead starts left
    // (one that died while this one runs is found here, not only by the next start). A failure waits for the next
    // interval: MLflow being down stops every writer's heartbeats alike.
    private async Task BeatIfDueAsync(CancellationToken token)
    {
        var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_options.StartId is null || _runIds.IsEmpty || now < _nextBeat)
        {
            return;
        }

        // At least a second: an interval of zero would renew heartbeats in a loop.
        var interval = Math.Max(1000, (long)_options.HeartbeatInterval.TotalMilliseconds);
        _nextBeat = now + interval;
        try
        {
            var text = now.ToString(CultureInfo.InvariantCulture);
            foreach (var runId in _runIds.Values.Distinct(StringComparer.Ordinal).ToList())
            {
                if (now - _beats.GetValueOrDefault(runId) >= interval)
                {
                    await _tracking.SetTagAsync(runId, HeartbeatTag, text, token).ConfigureAwait(false);
                    _beats[runId] = now;
                }
            }

            if (now >= _nextSweep)
            {
                _nextSweep = now + (long)_options.StaleAfter.TotalMilliseconds;
                foreach (var experimentId in _experimentIds.Values.Distinct(StringComparer.Ordinal).ToList())
                {
                    Interlocked.Add(ref _killed, await _sweeper.SweepAsync(experimentId, token).ConfigureAwait(false));
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            _options.OnError?.Invoke(e, true);
        }
    }

    private async Task EndRunsAsync(string status, CancellationToken token)
    {
        var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var runId in _runIds.Values.Distinct(StringComparer.Ordinal))
        {
            await _tracking.UpdateRunAsync(runId, status, now, token).ConfigureAwait(false);
        }
    }

    private static bool IsPermanent(Exception e) =>
        e is MlflowInvalidParameterException;
}
