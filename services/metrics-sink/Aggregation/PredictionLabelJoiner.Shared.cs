using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>The joiner's side of the shared join state: the queue Redis answers, and applying its answers.</summary>
internal sealed partial class PredictionLabelJoiner
{
    /// <summary>Called once, by <see cref="RedisJoinState"/>'s constructor: from now on records go through Redis.</summary>
    public void UseSharedState(RedisJoinState shared)
    {
        if (joinByEntityTime)
        {
            throw new InvalidOperationException("The Redis join state joins by request id only (MetricsSink:JoinBy=RequestId).");
        }

        lock (_gate)
        {
            _shared = shared;
        }
    }

    /// <summary>Takes up to <paramref name="max"/> queued operations, oldest first; they count as in flight until applied.</summary>
    public List<SharedJoinOperation> TakeShared(int max)
    {
        lock (_gate)
        {
            var count = Math.Min(max, _outbox.Count);
            var taken = new List<SharedJoinOperation>(count);
            for (var i = 0; i < count; i++)
            {
                taken.Add(_outbox.Dequeue());
            }

            _inFlight += count;
            return taken;
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
            _inFlight -= operations.Count;
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
                        _pendingPredictions -= operation.Fields.Count;
                        if (operation.Failed || !operation.JoinedElsewhere)
                        {
                            _unjoinedPredictions += operation.Fields.Count;
                            _sharedUnjoinedPredictions += operation.Fields.Count;
                        }

                        break;
                    case SharedJoinKind.ExpireLabel:
                        _pendingLabels--;
                        if (operation.Failed || !operation.JoinedElsewhere)
                        {
                            _unmatchedLabels++;
                            _sharedUnmatchedLabels++;
                        }

                        break;
                }
            }

            if (operations.Count > 0)
            {
                Volatile.Write(ref _appliedThrough, operations[^1].Sequence);
            }

            return outcomes;
        }
    }

    private bool ShareLocked()
    {
        if (_shared is null)
        {
            return false;
        }

        // The queue is bounded like the entries: beyond it, and while Redis is away, memory decides.
        if (_shared.Available && _outbox.Count + _inFlight < maxPending)
        {
            return true;
        }

        _memoryFallbacks++;
        return false;
    }

    /// <summary>
    /// The sequence of the operation queued last. A consumer that got <see cref="JoinOutcome.Deferred"/> stores the
    /// record's offset only once <see cref="AppliedThrough"/> reaches it, so a crash before Redis answered replays the
    /// record (Redis then tells it apart as a duplicate) instead of losing it.
    /// </summary>
    public long EnqueuedThrough => Volatile.Read(ref _enqueuedThrough);

    /// <summary>The sequence of the last operation applied: every operation up to it was decided, by Redis or in memory.</summary>
    public long AppliedThrough => Volatile.Read(ref _appliedThrough);

    private void Enqueue(SharedJoinOperation operation)
    {
        operation.Sequence = _enqueuedThrough + 1;
        Volatile.Write(ref _enqueuedThrough, operation.Sequence);
        _outbox.Enqueue(operation);
        _shared!.Signal();
    }

    private JoinOutcome ApplySharedPrediction(SharedJoinOperation operation)
    {
        var prediction = operation.Prediction!;
        if (operation.Seen || (_entries.TryGetValue(operation.RequestId, out var known) && HasArm(known, prediction)))
        {
            // Stored before, by this instance or another: the first one counted it.
            _duplicates++;
            return JoinOutcome.Duplicate;
        }

        var entry = GetOrCreate(operation.RequestId);
        entry.Shared |= !operation.Failed;
        var remoteLabel = !operation.Failed && TryParse(Label.Parser, operation.PartnerLabel) is { } label ? LabelValue(label) : null;
        return AddPredictionLocked(prediction, entry, remoteLabel);
    }

    private JoinOutcome ApplySharedLabel(SharedJoinOperation operation)
    {
        if (operation.Seen || (_entries.TryGetValue(operation.RequestId, out var known) && known.Label is not null))
        {
            return JoinOutcome.Duplicate;
        }

        var value = LabelValue(operation.Label!);
        var entry = GetOrCreate(operation.RequestId);
        if (operation.Failed)
        {
            return ApplyLabelLocked(entry, value);
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
            var arm = Arm(prediction);
            if (arm.Model.Length == 0)
            {
                arm.Model = prediction.ModelName;
                arm.Version = prediction.ModelVersion;
                arm.PolicyVersion = prediction.PolicyVersion;
            }

            Join(new PendingPrediction(arm, prediction.Output?.Label ?? "", prediction.Output), value);
            _remoteJoins++;
            remote++;
        }

        if (remote == 0)
        {
            return ApplyLabelLocked(entry, value);
        }

        _labels++;
        entry.Label = value;
        entry.LabelJoinedRemotely = true;
        return JoinHeldPredictions(entry, value);
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
