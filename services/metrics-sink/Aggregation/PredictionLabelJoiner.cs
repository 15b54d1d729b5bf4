using System.Globalization;
using Mesh.Contracts.V1;
using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Verdicts;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>What applying one record did.</summary>
internal enum JoinOutcome
{
    /// <summary>Kept until its counterpart arrives.</summary>
    Pending,

    /// <summary>Matched with its counterpart (a label may join several arms' predictions at once).</summary>
    Joined,

    /// <summary>Seen before (at-least-once redelivery): counted once, ignored now.</summary>
    Duplicate,

    /// <summary>Cannot ever join (a label without a request id).</summary>
    Unmatchable,

    /// <summary>
    /// Queued for the shared join state (Redis): counted, and metered by <see cref="RedisJoinState"/>, once Redis answers.
    /// </summary>
    Deferred,
}

/// <summary>What an expiry pass removed.</summary>
internal readonly record struct ExpiryResult(int Entries, int UnmatchedLabels, int UnjoinedPredictions);

/// <summary>
/// Joins predictions with labels by request id in bounded memory, in either arrival order, and keeps per-arm
/// statistics. Each request id is held for the join window from when it was first seen (so late shadows and
/// redeliveries still meet it), and never more than <c>maxPending</c> ids at once (the oldest go first).
/// Thread-safe: the consume loop applies records while the flusher and the HTTP endpoint read snapshots.
/// </summary>
/// <remarks>
/// With <paramref name="joinByEntityTime"/> a label joins by entity id and time instead: the latest prediction
/// of its entity made at or before the label's observed time that has no label yet (labels that come before
/// any such prediction wait, within the window, for one).
/// With a shared join state (<see cref="UseSharedState"/>, request-id join only), every record that is not a
/// duplicate already known here is queued for Redis instead of decided at once, so that another instance (or
/// this one after a restart) holding its partner joins it exactly once; the answers come back in queue order
/// through <see cref="ApplyShared"/>. Memory stays the cache and the fallback: while Redis is away, or its queue
/// is full, records are decided here as without Redis.
/// </remarks>
internal sealed partial class PredictionLabelJoiner(TimeProvider time, TimeSpan window, int maxPending, bool joinByEntityTime = false)
{
    // Bounds what one busy entity can hold in the entity-and-time join.
    private const int MaxPerEntity = 64;
    private readonly Dictionary<string, EntityState> _entities = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<(string RequestId, long Created)> _byAge = new();
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), ArmStatistics> _arms = new();
    private readonly long _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
    private long _predictions;
    private long _labels;
    private long _joined;
    private long _duplicates;
    private long _unmatchedLabels;
    private long _unjoinedPredictions;
    private long _pendingPredictions;
    private long _pendingLabels;
    private IReadOnlyDictionary<string, ExperimentVerdict> _verdicts = new Dictionary<string, ExperimentVerdict>();
    private readonly UnattributedDeadLetters _unattributedDeadLetters = new();
    private readonly Queue<SharedJoinOperation> _outbox = new();
    private RedisJoinState? _shared;
    private int _inFlight;
    private long _enqueuedThrough;
    private long _appliedThrough;
    private long _remoteJoins;
    private long _memoryFallbacks;
    // Expiries Redis decided since the last Expire(), reported by the next one.
    private int _sharedUnmatchedLabels;
    private int _sharedUnjoinedPredictions;

    /// <summary>Predictions joined with a partner that another instance (or an earlier process) stored in Redis.</summary>
    public long RemoteJoins
    {
        get
        {
            lock (_gate)
            {
                return _remoteJoins;
            }
        }
    }

    /// <summary>Records and expiries decided in memory because Redis was away or its queue full.</summary>
    public long MemoryFallbacks
    {
        get
        {
            lock (_gate)
            {
                return _memoryFallbacks;
            }
        }
    }

    /// <summary>Operations queued for Redis and not yet applied.</summary>
    public int SharedBacklog
    {
        get
        {
            lock (_gate)
            {
                return _outbox.Count + _inFlight;
            }
        }
    }

    /// <summary>Predictions whose label never came within the window (not in the summary shape; logged and metered).</summary>
    public long UnjoinedPredictions
    {
        get
        {
            lock (_gate)
            {
                return _unjoinedPredictions;
            }
        }
    }

    public JoinOutcome AddPrediction(Prediction prediction)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(prediction.RequestId, out var known) && HasArm(known, prediction))
            {
                _duplicates++;
                return JoinOutcome.Duplicate;
            }

            if (ShareLocked())
            {
                Enqueue(new SharedJoinOperation(SharedJoinKind.Prediction, prediction.RequestId) { Prediction = prediction });
                return JoinOutcome.Deferred;
            }

            return AddPredictionLocked(prediction, GetOrCreate(prediction.RequestId), null);
        }
    }

    private bool HasArm(Entry entry, Prediction prediction) =>
        _arms.TryGetValue((prediction.Experiment, prediction.Arm, prediction.Shadow), out var arm) && entry.Predictions.Exists(p => ReferenceEquals(p.Arm, arm));

    // A new prediction for this process; remoteLabel is a label another instance stored in Redis for its request.
    private JoinOutcome AddPredictionLocked(Prediction prediction, Entry entry, string? remoteLabel)
    {
        var arm = Arm(prediction);
        _predictions++;
        arm.Model = prediction.ModelName;
        arm.Version = prediction.ModelVersion;
        arm.PolicyVersion = prediction.PolicyVersion;
        arm.RecordContext(prediction.Context);
        arm.RecordPrediction(prediction.Fallback, prediction.Latency?.EndToEndMs ?? 0);
        var pending = new PendingPrediction(arm, prediction.Output?.Label ?? "", prediction.Output);
        CompareWithOtherPath(entry, pending);
        if (entry.Label is null && remoteLabel is not null)
        {
            // Its label came to another instance first; this one joins (Redis decided who, atomically).
            entry.Predictions.Add(pending with { RemotelyJoined = true });
            Join(pending, remoteLabel);
            _remoteJoins++;
            return JoinOutcome.Joined;
        }

        entry.Predictions.Add(pending);
        if (entry.Label is null)
        {
            _pendingPredictions++;
            if (joinByEntityTime && entry.Predictions.Count == 1 && IndexByEntity(prediction, entry) is { } waiting)
            {
                // The label was counted when it arrived; it now stops waiting and joins.
                _labels--;
                _pendingLabels--;
                return ApplyLabelLocked(entry, waiting);
            }

            return JoinOutcome.Pending;
        }

        if (LocalPredictions(entry) == 1 && !entry.LabelJoinedRemotely)
        {
            // The label was waiting alone until now.
            _pendingLabels--;
        }

        Join(pending, entry.Label);
        return JoinOutcome.Joined;
    }

    public JoinOutcome AddLabel(Label label)
    {
        lock (_gate)
        {
            var value = LabelValue(label);
            if (joinByEntityTime && label.EntityId.Length > 0)
            {
                return AddLabelByEntityLocked(label, value);
            }

            if (string.IsNullOrEmpty(label.RequestId))
            {
                _labels++;
                _unmatchedLabels++;
                return JoinOutcome.Unmatchable;
            }

            if (_entries.TryGetValue(label.RequestId, out var known) && known.Label is not null)
            {
                return JoinOutcome.Duplicate;
            }

            if (ShareLocked())
            {
                Enqueue(new SharedJoinOperation(SharedJoinKind.Label, label.RequestId) { Label = label });
                return JoinOutcome.Deferred;
            }

            return ApplyLabelLocked(GetOrCreate(label.RequestId), value);
        }
    }

    // Regression labels carry a number; it is compared in text like a class name.
    private static string LabelValue(Label label) =>
        label.Value.Length > 0 || label.NumericValue == 0 ? label.Value : label.NumericValue.ToString("R", CultureInfo.InvariantCulture);

    // Predictions this process holds for the request that a label here would join (not those joined through Redis).
    private static int LocalPredictions(Entry entry)
    {
        var count = 0;
        foreach (var prediction in entry.Predictions)
        {
            if (!prediction.RemotelyJoined)
            {
                count++;
            }
        }

        return count;
    }

    private JoinOutcome ApplyLabelLocked(Entry entry, string value)
    {
        if (entry.Label is not null)
        {
            return JoinOutcome.Duplicate;
        }

        _labels++;
        entry.Label = value;
        if (LocalPredictions(entry) == 0)
        {
            _pendingLabels++;
            return JoinOutcome.Pending;
        }

        return JoinHeldPredictions(entry, value);
    }

    /// <summary>Joins the label to every prediction of the request this instance holds and no other instance joined.</summary>
    private JoinOutcome JoinHeldPredictions(Entry entry, string value)
    {
        var joined = 0;
        foreach (var prediction in entry.Predictions)
        {
            if (!prediction.RemotelyJoined)
            {
                Join(prediction, value);
                joined++;
            }
        }

        _pendingPredictions -= joined;
        return JoinOutcome.Joined;
    }

    private JoinOutcome AddLabelByEntityLocked(Label label, string value)
    {
        var observed = label.ObservedTime?.ToDateTimeOffset().UtcTicks ?? time.GetUtcNow().UtcTicks;
        var state = Entity(label.EntityId);
        if (state.LabelsSeen.Exists(l => l.Observed == observed && l.Value == value))
        {
            // A redelivered label would otherwise join the entity's next older prediction.
            return JoinOutcome.Duplicate;
        }

        Capped(state.LabelsSeen, (observed, value, time.GetTimestamp()));
        string? best = null;
        var bestTicks = long.MinValue;
        foreach (var (ticks, requestId) in state.Predictions)
        {
            if (ticks <= observed && ticks >= bestTicks && _entries.TryGetValue(requestId, out var candidate) && candidate.Label is null)
            {
                (best, bestTicks) = (requestId, ticks);
            }
        }

        if (best is not null)
        {
            return ApplyLabelLocked(_entries[best], value);
        }

        if (state.Waiting.Count >= MaxPerEntity)
        {
            state.Waiting.RemoveAt(0);
            _pendingLabels--;
            _unmatchedLabels++;
        }

        state.Waiting.Add((observed, value, time.GetTimestamp()));
        _labels++;
        _pendingLabels++;
        return JoinOutcome.Pending;
    }

    // Records the entity's prediction; returns a waiting label it answers, if any.
    private string? IndexByEntity(Prediction prediction, Entry entry)
    {
        if (prediction.EntityId.Length == 0)
        {
            return null;
        }

        var ticks = prediction.EventTime?.ToDateTimeOffset().UtcTicks ?? time.GetUtcNow().UtcTicks;
        entry.EntityId = prediction.EntityId;
        var state = Entity(prediction.EntityId);
        Capped(state.Predictions, (ticks, prediction.RequestId));
        var index = state.Waiting.FindIndex(w => w.Observed >= ticks);
        if (index < 0)
        {
            return null;
        }

        var waiting = state.Waiting[index];
        state.Waiting.RemoveAt(index);
        return waiting.Value;
    }

    private EntityState Entity(string entityId)
    {
        if (!_entities.TryGetValue(entityId, out var state))
        {
            state = new EntityState();
            _entities[entityId] = state;
        }

        return state;
    }

    private static void Capped<T>(List<T> list, T item)
    {
        if (list.Count >= MaxPerEntity)
        {
            list.RemoveAt(0);
        }

        list.Add(item);
    }

    // Entity-and-time join state older than the window goes with the periodic expiry.
    private int ExpireEntitiesLocked(long now)
    {
        var unmatched = 0;
        List<string>? empty = null;
        foreach (var (entityId, state) in _entities)
        {
            unmatched += state.Waiting.RemoveAll(w => now - w.Seen >= _windowTicks);
            state.LabelsSeen.RemoveAll(l => now - l.Seen >= _windowTicks);
            if (state.Predictions.Count == 0 && state.Waiting.Count == 0 && state.LabelsSeen.Count == 0)
            {
                (empty ??= []).Add(entityId);
            }
        }

        foreach (var entityId in empty ?? [])
        {
            _entities.Remove(entityId);
        }

        _pendingLabels -= unmatched;
        _unmatchedLabels += unmatched;
        return unmatched;
    }

    /// <summary>Removes request ids older than the window or beyond the pending limit, counting what never joined.</summary>
    public ExpiryResult Expire()
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            var expired = EvictLocked(now, maxPending);
            if (joinByEntityTime)
            {
                var labels = ExpireEntitiesLocked(now);
                expired = expired with { UnmatchedLabels = expired.UnmatchedLabels + labels };
            }

            if (_sharedUnmatchedLabels > 0 || _sharedUnjoinedPredictions > 0)
            {
                expired = expired with
                {
                    UnmatchedLabels = expired.UnmatchedLabels + _sharedUnmatchedLabels,
                    UnjoinedPredictions = expired.UnjoinedPredictions + _sharedUnjoinedPredictions,
                };
                (_sharedUnmatchedLabels, _sharedUnjoinedPredictions) = (0, 0);
            }

            return expired;
        }
    }

    public SummaryDocument Snapshot()
    {
        lock (_gate)
        {
            var experiments = _arms.Values
                .GroupBy(a => a.Experiment, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ExperimentSummary(g.Key, [.. g
                    .OrderBy(a => a.Shadow)
                    .ThenBy(a => a.Arm, StringComparer.Ordinal)
                    .Select(a => new ArmSummary(
                        a.Arm,
                        a.Model,
                        a.Version,
                        a.Shadow,
                        a.Predictions,
                        a.Joined,
                        a.Correct,
                        a.Joined == 0 ? 0 : Math.Round((double)a.Correct / a.Joined, 4),
                        Math.Round(a.Latency.Percentile(0.50), 3),
                        Math.Round(a.Latency.Percentile(0.99), 3),
                        a.Fallbacks)
                    {
                        LatencyP95Ms = Math.Round(a.Latency.Percentile(0.95), 3),
                        LogLoss = Round(a.Total.LogLoss),
                        Rmse = Round(a.Total.Rmse),
                        Mae = Round(a.Total.Mae),
                        FallbackRate = Round(a.Total.FallbackRate),
                        ShadowAgreement = Round(a.Total.ShadowAgreement),
                        DeadLetters = a.DeadLetters,
                        DeadLetterRate = Round(a.DeadLetterRate),
                    })], _verdicts.GetValueOrDefault(g.Key)))
                .ToList();
            return new SummaryDocument(
                time.GetUtcNow().UtcDateTime,
                _predictions,
                _labels,
                _joined,
                _duplicates,
                _unmatchedLabels,
                _pendingPredictions,
                _pendingLabels,
                experiments) { UnattributedDeadLetters = _unattributedDeadLetters.Summarize() };
        }
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 6) : null;

    private Entry GetOrCreate(string requestId)
    {
        if (_entries.TryGetValue(requestId, out var entry))
        {
            return entry;
        }

        var now = time.GetTimestamp();
        // Make room first, so the new id is never the one evicted.
        EvictLocked(now, maxPending - 1);
        entry = new Entry();
        _entries[requestId] = entry;
        _byAge.Enqueue((requestId, now));
        return entry;
    }

    private ExpiryResult EvictLocked(long now, int keep)
    {
        int entries = 0, labels = 0, predictions = 0;
        while (_byAge.Count > 0 && (_byAge.Count > keep || now - _byAge.Peek().Created >= _windowTicks))
        {
            var (requestId, _) = _byAge.Dequeue();
            var entry = _entries[requestId];
            _entries.Remove(requestId);
            entries++;
            if (entry.EntityId is { } entityId && _entities.TryGetValue(entityId, out var state))
            {
                state.Predictions.RemoveAll(p => p.RequestId == requestId);
            }

            var local = LocalPredictions(entry);
            if (entry.Label is not null && local == 0 && !entry.LabelJoinedRemotely)
            {
                // In Redis, the label may have met a prediction on another instance: Redis decides, and counts later.
                if (!(entry.Shared && ShareLocked()))
                {
                    labels++;
                    _pendingLabels--;
                }
                else
                {
                    Enqueue(new SharedJoinOperation(SharedJoinKind.ExpireLabel, requestId));
                }
            }
            else if (entry.Label is null && local > 0)
            {
                if (!(entry.Shared && ShareLocked()))
                {
                    predictions += local;
                    _pendingPredictions -= local;
                }
                else
                {
                    Enqueue(new SharedJoinOperation(SharedJoinKind.ExpirePredictions, requestId)
                    {
                        Fields = [.. entry.Predictions.Where(p => !p.RemotelyJoined).Select(p => SharedJoinOperation.PredictionField(p.Arm.Experiment, p.Arm.Arm, p.Arm.Shadow))],
                    });
                }
            }
        }

        _unmatchedLabels += labels;
        _unjoinedPredictions += predictions;
        return new ExpiryResult(entries, labels, predictions);
    }

    /// <summary>
    /// Counts one of the router's dead letters: against its arm (in the arm's dead-letter rate) when it names one,
    /// else per experiment or overall.
    /// </summary>
    public void AddDeadLetter(string experiment, string arm)
    {
        lock (_gate)
        {
            if (experiment.Length == 0 || arm.Length == 0)
            {
                _unattributedDeadLetters.Record(experiment);
                return;
            }

            if (!_arms.TryGetValue((experiment, arm, false), out var statistics))
            {
                statistics = new ArmStatistics(experiment, arm, false);
                _arms[(experiment, arm, false)] = statistics;
            }

            statistics.RecordDeadLetter();
        }
    }

    /// <summary>Closes the current window of every arm: the figures of the arms that saw anything in it.</summary>
    public IReadOnlyList<ArmWindow> CloseWindow()
    {
        lock (_gate)
        {
            var closed = new List<ArmWindow>(_arms.Count);
            foreach (var arm in _arms.Values.OrderBy(a => a.Experiment, StringComparer.Ordinal).ThenBy(a => a.Shadow).ThenBy(a => a.Arm, StringComparer.Ordinal))
            {
                var window = arm.CloseWindow();
                if (window.Predictions > 0 || window.Joined > 0 || window.ShadowCompared > 0 || window.DeadLetters > 0)
                {
                    closed.Add(new ArmWindow(arm.Experiment, arm.Arm, arm.Shadow, arm.Model, arm.Version, arm.PolicyVersion, window));
                }
            }

            return closed;
        }
    }

    /// <summary>The verdicts shown in the summary, replaced by the verdict service after each look.</summary>
    public void SetVerdicts(IReadOnlyDictionary<string, ExperimentVerdict> verdicts)
    {
        lock (_gate)
        {
            _verdicts = verdicts;
        }
    }

    // Shadow agreement: a shadow and the primary answer of the same request, compared as soon as both are here.
    private static void CompareWithOtherPath(Entry entry, PendingPrediction added)
    {
        foreach (var other in entry.Predictions)
        {
            if (other.Arm.Shadow == added.Arm.Shadow || !string.Equals(other.Arm.Experiment, added.Arm.Experiment, StringComparison.Ordinal))
            {
                continue;
            }

            var (shadow, primary) = added.Arm.Shadow ? (added, other) : (other, added);
            shadow.Arm.RecordShadowComparison(string.Equals(shadow.PredictedLabel, primary.PredictedLabel, StringComparison.Ordinal)
                && (shadow.PredictedLabel.Length > 0 || shadow.Output?.Value == primary.Output?.Value));
        }
    }

    private void Join(PendingPrediction prediction, string label)
    {
        _joined++;
        prediction.Arm.RecordJoin(OutcomeScoring.Score(prediction.PredictedLabel, prediction.Output, label));
    }

    private ArmStatistics Arm(Prediction prediction)
    {
        var key = (prediction.Experiment, prediction.Arm, prediction.Shadow);
        if (!_arms.TryGetValue(key, out var arm))
        {
            arm = new ArmStatistics(prediction.Experiment, prediction.Arm, prediction.Shadow);
            _arms[key] = arm;
        }

        return arm;
    }

    private sealed class Entry
    {
        public string? Label { get; set; }

        /// <summary>Some record of this request is in Redis, so its expiry is Redis's to decide.</summary>
        public bool Shared { get; set; }

        /// <summary>The label here joined predictions another instance stored in Redis: it is not waiting.</summary>
        public bool LabelJoinedRemotely { get; set; }

        public string? EntityId { get; set; }

        public List<PendingPrediction> Predictions { get; } = new(1);
    }

    private sealed class EntityState
    {
        public List<(long Ticks, string RequestId)> Predictions { get; } = [];

        public List<(long Observed, string Value, long Seen)> Waiting { get; } = [];

        public List<(long Observed, string Value, long Seen)> LabelsSeen { get; } = [];
    }

    private readonly record struct PendingPrediction(ArmStatistics Arm, string PredictedLabel, PredictionOutput? Output)
    {
        /// <summary>Joined with a label another instance stored in Redis; a label here would be a duplicate of it.</summary>
        public bool RemotelyJoined { get; init; }
    }
}
