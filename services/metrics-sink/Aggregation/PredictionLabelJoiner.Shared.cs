using Google.Protobuf;
using Mesh.Contracts.V1;

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
            var outcomes = new List<(bool IsLabel, JoinOutcome Outcome)>(operations.Count);
            foreach (var operation in operations)
            {
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
            }

            _shared?.Applied(operations);
            return outcomes;
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
        return _requests.AddPrediction(prediction, entry, remoteLabel);
    }

    private JoinOutcome ApplySharedLabel(SharedJoinOperation operation)
    {
        if (operation.Seen || _requests.HasLabel(operation.RequestId))
        {
            return JoinOutcome.Duplicate;
        }

        var value = LabelValue(operation.Label!);
        var entry = _requests.GetOrCreate(operation.RequestId);
        if (operation.Failed)
        {
            return _requests.ApplyLabel(entry, value);
        }

        entry.Shared = true;
        var remote = 0;
        foreach (var (field, bytes) in operation.PartnerPredictions)
        {
            // One held here is joined below like any local prediction.
            if (entry.Predictions.Exists(p => SharedJoinOperation.PredictionField(p.Arm.Experiment, p.Arm.Arm, p.Arm.Shadow) == field)
                || TryParse(Prediction.Parser, bytes) is not { } prediction)
            {
                continue;
            }

            // Another instance counted this prediction; the join is counted here, once (Redis gave it to this label only).
            var arm = _book.Arm(prediction);
            if (arm.Model.Length == 0)
            {
                arm.Model = prediction.ModelName;
                arm.Version = prediction.ModelVersion;
                arm.PolicyVersion = prediction.PolicyVersion;
            }

            _requests.Join(new PendingPrediction(arm, prediction.Output?.Label ?? "", prediction.Output), value);
            _requests.RemoteJoins++;
            remote++;
        }

        if (remote == 0)
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
