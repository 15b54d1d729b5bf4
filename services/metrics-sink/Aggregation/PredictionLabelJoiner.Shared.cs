using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>The joiner's side of the shared join state: taking from the queue Redis answers, and applying its answers.</summary>
internal sealed partial class PredictionLabelJoiner
{
    // Expiries Redis decided since the last Expire(), reported by the next one.
    private int _sharedUnmatchedLabels;
    private int _sharedUnjoinedPredictions;

    /// <summary>Records and expiries decided in memory because Redis was away or its queue full.</summary>
    public long MemoryFallbacks
    {
        get
        {
            lock (_gate)
            {
                return _shared?.MemoryFallbacks ?? 0;
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
                return _shared?.Backlog ?? 0;
            }
        }
    }

    /// <summary>
    /// The sequence of the operation queued last. A consumer that got <see cref="JoinOutcome.Deferred"/> stores the
    /// record's offset only once <see cref="AppliedThrough"/> reaches it, so a crash before Redis answered replays the
    /// record (Redis then tells it apart as a duplicate) instead of losing it.
    /// </summary>
    public long EnqueuedThrough => _shared?.EnqueuedThrough ?? 0;

    /// <summary>The sequence of the last operation applied: every operation up to it was decided, by Redis or in memory.</summary>
    public long AppliedThrough => _shared?.AppliedThrough ?? 0;

    /// <summary>Takes up to <paramref name="max"/> queued operations, oldest first; they count as in flight until applied.</summary>
    public List<SharedJoinOperation> TakeShared(int max)
    {
        lock (_gate)
        {
            return _shared?.Take(max) ?? [];
        }
    }

    /// <summary>
    /// Applies Redis's answers (or, where <see cref="SharedJoinOperation.Failed"/>, decides in memory) in the order
    /// the operations were queued; returns the outcome of each record operation, for the counters.
    /// </summary>
    public List<(bool IsLabel, JoinOutcome Outcome)> ApplyShared(IReadOnlyList<SharedJoinOperation> operations)
    {
        lock (_gate)
        {
            // What records decided in memory since the last batch changed is not Redis's to persist.
            _book.TakeWrites(null);
            var outcomes = new List<(bool IsLabel, JoinOutcome Outcome)>(operations.Count);
            foreach (var operation in operations)
            {
                var before = (_counts.Predictions, _counts.Labels, _counts.Joined, _counts.UnmatchedLabels);
                switch (operation.Kind)
                {
                    case SharedJoinKind.Prediction:
                        outcomes.Add((false, ApplySharedPrediction(operation)));
                        break;
                    case SharedJoinKind.Label:
                        outcomes.Add((true, ApplySharedLabel(operation)));
                        break;
                    case SharedJoinKind.ExpirePredictions:
                        _counts.PendingPredictions -= operation.Fields.Count;
                        if (operation.Failed || !operation.JoinedElsewhere)
                        {
                            _counts.UnjoinedPredictions += operation.Fields.Count;
                            _sharedUnjoinedPredictions += operation.Fields.Count;
                        }

                        break;
                    case SharedJoinKind.ExpireLabel:
                        _counts.PendingLabels--;
                        if (operation.Failed || !operation.JoinedElsewhere)
                        {
                            _counts.UnmatchedLabels++;
                            _sharedUnmatchedLabels++;
                        }

                        break;
                }

                Journal(operation, before);
            }

            return outcomes;
        }
    }

    /// <summary>
    /// Marks operations applied earlier as done, once what they changed in the aggregates was persisted (or could not
    /// be): only then may the consumer store the offsets of their records.
    /// </summary>
    public void CompleteShared(IReadOnlyList<SharedJoinOperation> operations)
    {
        lock (_gate)
        {
            _shared?.Applied(operations);
        }
    }

    /// <summary>Adds the aggregates the durable join state persisted (an earlier process's counts) to this one's.</summary>
    public void Restore(IEnumerable<(string Field, string Value)> fields)
    {
        lock (_gate)
        {
            foreach (var (field, value) in fields)
            {
                if (DurableFigures.TryParseArm(field, out var arm))
                {
                    _book.Restore(arm.Experiment, arm.Arm, arm.Shadow, arm.Figure, value);
                }
                else if (DurableFigures.GlobalFigure(field) is { } figure && double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var count))
                {
                    RestoreCount(figure, count);
                }
            }
        }
    }

    private void RestoreCount(string figure, double value)
    {
        var count = (long)Math.Round(value);
        switch (figure)
        {
            case DurableFigures.Predictions: _counts.Predictions += count; break;
            case DurableFigures.Labels: _counts.Labels += count; break;
            case DurableFigures.Joined: _counts.Joined += count; break;
            case DurableFigures.UnmatchedLabels: _counts.UnmatchedLabels += count; break;
        }
    }

    // What an operation Redis decided changed in the counts and the arms, for Redis to persist with it, once.
    private void Journal(SharedJoinOperation operation, (long Predictions, long Labels, long Joined, long Unmatched) before)
    {
        var writes = new List<AggregateWrite>();
        AddCount(writes, DurableFigures.Predictions, _counts.Predictions - before.Predictions);
        AddCount(writes, DurableFigures.Labels, _counts.Labels - before.Labels);
        AddCount(writes, DurableFigures.Joined, _counts.Joined - before.Joined);
        AddCount(writes, DurableFigures.UnmatchedLabels, _counts.UnmatchedLabels - before.Unmatched);
        _book.TakeWrites(operation.Failed ? null : writes);
        if (operation.Failed || writes.Count == 0)
        {
            return;
        }

        operation.Writes = writes;
        operation.CountedMark = operation.Kind switch
        {
            SharedJoinKind.Prediction => "c:" + SharedJoinOperation.PredictionField(operation.Prediction!.Experiment, operation.Prediction.Arm, operation.Prediction.Shadow),
            SharedJoinKind.Label => "c:" + SharedJoinOperation.LabelField,
            SharedJoinKind.ExpirePredictions => "c:x",
            _ => "c:y",
        };
    }

    private static void AddCount(List<AggregateWrite> writes, string figure, long delta)
    {
        if (delta != 0)
        {
            writes.Add(new AggregateWrite(DurableFigures.Global(figure), delta));
        }
    }

    // Adds what Redis decided to expire since the last pass to this pass's result. Under the lock.
    private ExpiryResult TakeSharedExpiries(ExpiryResult expired)
    {
        if (_sharedUnmatchedLabels == 0 && _sharedUnjoinedPredictions == 0)
        {
            return expired;
        }

        expired = expired with
        {
            UnmatchedLabels = expired.UnmatchedLabels + _sharedUnmatchedLabels,
            UnjoinedPredictions = expired.UnjoinedPredictions + _sharedUnjoinedPredictions,
        };
        (_sharedUnmatchedLabels, _sharedUnjoinedPredictions) = (0, 0);
        return expired;
    }

    private JoinOutcome ApplySharedPrediction(SharedJoinOperation operation)
    {
        var prediction = operation.Prediction!;
        if (operation.Seen || _requests.Holds(prediction))
        {
            // Stored before, by this instance or another: the first one counted it.
            _counts.Duplicates++;
            return JoinOutcome.Duplicate;
        }

        var entry = _requests.GetOrCreate(operation.RequestId);
        entry.Shared |= !operation.Failed;
        var remoteLabel = !operation.Failed && TryParse(Label.Parser, operation.PartnerLabel) is { } label ? LabelValue(label) : null;
        var joinedAlready = entry.JoinedFromRedis?.Contains(SharedJoinOperation.PredictionField(prediction.Experiment, prediction.Arm, prediction.Shadow)) == true;
        var outcome = _requests.AddPrediction(prediction, entry, remoteLabel, joinedAlready, operation.Trace);
        if (outcome == JoinOutcome.Joined && entry.Label?.Trace is { } labelTrace)
        {
            // A label read here earlier: the span links to it.
            operation.JoinedTraces = [labelTrace];
        }

        return outcome;
    }

    private JoinOutcome ApplySharedLabel(SharedJoinOperation operation)
    {
        if (operation.Seen || _requests.HasLabel(operation.RequestId))
        {
            return JoinOutcome.Duplicate;
        }

        var value = LabelValue(operation.Label!) with { Trace = operation.Trace };
        var entry = _requests.GetOrCreate(operation.RequestId);
        var outcome = ApplySharedLabel(operation, entry, value);
        if (outcome == JoinOutcome.Joined && operation.Trace is not null)
        {
            var held = new List<RecordTrace>();
            RequestIdJoin.AddPredictionTraces(entry, held);
            operation.JoinedTraces = held;
        }

        return outcome;
    }

    private JoinOutcome ApplySharedLabel(SharedJoinOperation operation, JoinEntry entry, ObservedLabel value)
    {
        if (operation.Failed)
        {
            return _requests.ApplyLabel(entry, value);
        }

        entry.Shared = true;
        var remote = 0;
        foreach (var (field, bytes) in operation.PartnerPredictions)
        {
            // One held here is joined below like any local prediction.
            if (entry.Predictions.Exists(p => p.Field == field)
                || TryParse(Prediction.Parser, bytes) is not { } prediction)
            {
                continue;
            }

            // Another instance counted this prediction; the join is counted here, once (Redis gave it to this label only).
            var arm = _book.Answering(prediction, out _);
            if (arm.Model.Length == 0)
            {
                arm.Model = prediction.ModelName;
                arm.Version = prediction.ModelVersion;
                arm.PolicyVersion = prediction.PolicyVersion;
            }

            _requests.Join(new PendingPrediction(arm, prediction.Arm, prediction.Output?.Label ?? "", prediction.Output), value);
            _requests.RemoteJoins++;
            (entry.JoinedFromRedis ??= new HashSet<string>(StringComparer.Ordinal)).Add(field);
            remote++;
        }

        if (remote == 0 && !(entry.LocalPredictions == 0 && entry.Predictions.Count > 0))
        {
            return _requests.ApplyLabel(entry, value);
        }

        _counts.Labels++;
        entry.Label = value;
        entry.LabelJoinedRemotely = true;
        return _requests.JoinHeldPredictions(entry, value);
    }

    private static T? TryParse<T>(MessageParser<T> parser, byte[]? bytes) where T : class, IMessage<T>
    {
        if (bytes is not { Length: > 0 })
        {
            return null;
        }

        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            // Not ours (a foreign writer under the same prefix): treated as absent.
            return null;
        }
    }
}
