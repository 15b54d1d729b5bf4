using System.Globalization;
using Mesh.Contracts.V1;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Outcomes;
using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Telemetry;
using Mesh.MetricsSink.Verdicts;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// Joins predictions with labels and keeps per-arm statistics: the one lock over the request-id join
/// (<see cref="RequestIdJoin"/>), the entity-and-time join (<see cref="EntityTimeJoin"/>), the per-arm book
/// (<see cref="ArmBook"/>) and the queue to the shared join state. Thread-safe: the consume loop applies records
/// while the flusher and the HTTP endpoint read snapshots.
/// </summary>
/// <remarks>
/// With a shared join state (<paramref name="shared"/>, request-id join only), every record that is not a duplicate
/// already known here is queued for Redis instead of decided at once, so that another instance (or this one after a
/// restart) holding its partner joins it exactly once; the answers come back in queue order through
/// <see cref="ApplyShared"/>. Memory stays the cache and the fallback: while Redis is away, or its queue is full,
/// records are decided here as without Redis.
/// </remarks>
internal sealed partial class PredictionLabelJoiner
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly int _maxPending;
    private readonly ArmBook _book;
    private readonly JoinCounts _counts = new();
    private readonly VerdictBoard _verdicts = new();
    private readonly RequestIdJoin _requests;
    private readonly EntityTimeJoin? _entities;
    private readonly SharedJoinQueue? _shared;

    public PredictionLabelJoiner(TimeProvider time, TimeSpan window, int maxPending, JoinBy joinBy = JoinBy.RequestId, SharedJoinQueue? shared = null, OutcomeCatalog? outcomes = null)
    {
        if (joinBy != JoinBy.RequestId && shared is not null)
        {
            throw new InvalidOperationException("The Redis join state joins by request id only (MetricsSink:JoinBy=RequestId).");
        }

        _time = time;
        _maxPending = maxPending;
        _shared = shared;
        _book = new ArmBook(journal: shared is not null, outcomes);
        var windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _requests = new RequestIdJoin(time, windowTicks, maxPending, _book, _counts, shared);
        _entities = joinBy == JoinBy.EntityTime ? new EntityTimeJoin(time, windowTicks, _requests, _counts) : null;
    }

    /// <summary>Predictions joined with a partner that another instance (or an earlier process) stored in Redis.</summary>
    public long RemoteJoins
    {
        get
        {
            lock (_gate)
            {
                return _requests.RemoteJoins;
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
                return _counts.UnjoinedPredictions;
            }
        }
    }

    /// <param name="origin">Where the record was read (topic and partition); see <see cref="SharedJoinOperation.Origin"/>.</param>
    /// <param name="trace">The record's trace, kept while the prediction waits.</param>
    /// <param name="joined">Given the trace of the label it joined, when it joins one here and now.</param>
    public JoinOutcome AddPrediction(Prediction prediction, string origin = "", RecordTrace? trace = null, List<RecordTrace>? joined = null)
    {
        lock (_gate)
        {
            if (_requests.Holds(prediction))
            {
                _counts.Duplicates++;
                return JoinOutcome.Duplicate;
            }

            if (_shared?.TryShare() == true)
            {
                _shared.Enqueue(new SharedJoinOperation(SharedJoinKind.Prediction, prediction.RequestId) { Prediction = prediction, Origin = origin, Trace = trace });
                return JoinOutcome.Deferred;
            }

            var entry = _requests.GetOrCreate(prediction.RequestId);
            var outcome = _requests.AddPrediction(prediction, entry, null, trace: trace);
            DropJournal();
            if (outcome == JoinOutcome.Pending && _entities is not null && entry.Predictions.Count == 1 && _entities.AddPrediction(prediction) is { } waiting)
            {
                // The label was counted when it arrived; it now stops waiting and joins.
                _counts.Labels--;
                _counts.PendingLabels--;
                outcome = _requests.ApplyLabel(entry, waiting);
            }

            if (outcome == JoinOutcome.Joined && entry.Label?.Trace is { } label)
            {
                joined?.Add(label);
            }

            return outcome;
        }
    }

    // Decided in memory while Redis is away: nothing for Redis to persist, and the journal must not grow meanwhile.
    private void DropJournal()
    {
        if (_shared is not null)
        {
            _book.TakeWrites(null);
        }
    }

    /// <param name="origin">Where the record was read (topic and partition); see <see cref="SharedJoinOperation.Origin"/>.</param>
    /// <param name="trace">The record's trace, kept while the label waits.</param>
    /// <param name="joined">Given the traces of the predictions it joined, when it joins here and now.</param>
    public JoinOutcome AddLabel(Label label, string origin = "", RecordTrace? trace = null, List<RecordTrace>? joined = null)
    {
        lock (_gate)
        {
            var value = LabelValue(label) with { Trace = trace };
            if (_entities is not null && label.EntityId.Length > 0)
            {
                var byEntity = _entities.AddLabel(label, value, out var entityEntry);
                if (byEntity == JoinOutcome.Joined && entityEntry is not null)
                {
                    RequestIdJoin.AddPredictionTraces(entityEntry, joined);
                }

                return byEntity;
            }

            if (string.IsNullOrEmpty(label.RequestId))
            {
                _counts.Labels++;
                _counts.UnmatchedLabels++;
                return JoinOutcome.Unmatchable;
            }

            if (_requests.HasLabel(label.RequestId))
            {
                return JoinOutcome.Duplicate;
            }

            if (_shared?.TryShare() == true)
            {
                _shared.Enqueue(new SharedJoinOperation(SharedJoinKind.Label, label.RequestId) { Label = label, Origin = origin, Trace = trace });
                return JoinOutcome.Deferred;
            }

            var entry = _requests.GetOrCreate(label.RequestId);
            var applied = _requests.ApplyLabel(entry, value);
            DropJournal();
            if (applied == JoinOutcome.Joined)
            {
                RequestIdJoin.AddPredictionTraces(entry, joined);
            }

            return applied;
        }
    }

    /// <summary>
    /// Counts one of the router's dead letters: against its arm (in the arm's dead-letter rate) when it names one,
    /// else per experiment or overall.
    /// </summary>
    public void AddDeadLetter(string experiment, string arm)
    {
        lock (_gate)
        {
            _book.AddDeadLetter(experiment, arm);
        }
    }

    /// <summary>Removes request ids older than the window or beyond the pending limit, counting what never joined.</summary>
    public ExpiryResult Expire()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var expired = _requests.Evict(now, _maxPending);
            if (_entities is not null)
            {
                expired = expired with { UnmatchedLabels = expired.UnmatchedLabels + _entities.Expire(now) };
            }

            return TakeSharedExpiries(expired);
        }
    }

    /// <summary>
    /// The totals and per-arm figures now; with <paramref name="withLatencyBuckets"/>, each arm also carries a copy of
    /// its latency histogram's buckets (the page's windowed percentiles: only its sampler asks).
    /// </summary>
    public SummaryDocument Snapshot(bool withLatencyBuckets = false)
    {
        lock (_gate)
        {
            return new SummaryDocument(
                _time.GetUtcNow().UtcDateTime,
                _counts.Predictions,
                _counts.Labels,
                _counts.Joined,
                _counts.Duplicates,
                _counts.UnmatchedLabels,
                _counts.PendingPredictions,
                _counts.PendingLabels,
                _book.Summarize(_verdicts, withLatencyBuckets)) { UnattributedDeadLetters = _book.SummarizeUnattributed() };
        }
    }

    /// <summary>Closes the current window of every arm: the figures of the arms that saw anything in it.</summary>
    public IReadOnlyList<ArmWindow> CloseWindow()
    {
        lock (_gate)
        {
            return _book.CloseWindow();
        }
    }

    /// <summary>The verdicts shown in the summary, replaced by the verdict service after each look.</summary>
    public void SetVerdicts(IReadOnlyDictionary<string, ExperimentVerdict> verdicts) => _verdicts.Replace(verdicts);

    // Regression labels carry a number; it is compared in text like a class name.
    private static ObservedLabel LabelValue(Label label) => new(
        label.Value.Length > 0 || label.NumericValue == 0 ? label.Value : label.NumericValue.ToString("R", CultureInfo.InvariantCulture),
        label.Outcomes);
}
