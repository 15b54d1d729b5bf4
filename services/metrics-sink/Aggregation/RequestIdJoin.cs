using Mesh.Contracts.V1;
using Mesh.MetricsSink.Telemetry;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The join by request id, in bounded memory and either arrival order: each request id is held for the join window
/// from when it was first seen (so late shadows and redeliveries still meet it), and never more than
/// <paramref name="maxPending"/> ids at once (the oldest go first). Guarded by the joiner's lock.
/// </summary>
/// <param name="shared">The queue to Redis when the join state is shared: an expiring request of which Redis holds a
/// record is Redis's to decide.</param>
internal sealed class RequestIdJoin(TimeProvider time, long windowTicks, int maxPending, ArmBook book, JoinCounts counts, SharedJoinQueue? shared)
{
    private readonly Dictionary<string, JoinEntry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<(string RequestId, long Created)> _byAge = new();

    /// <summary>Predictions joined with a partner that another instance (or an earlier process) stored in Redis.</summary>
    public long RemoteJoins { get; set; }

    public JoinEntry? Find(string requestId) => _entries.GetValueOrDefault(requestId);

    /// <summary>This arm's prediction of the request is held already.</summary>
    public bool Holds(Prediction prediction) =>
        _entries.TryGetValue(prediction.RequestId, out var entry) && entry.Predictions.Exists(p =>
            p.Arm.Shadow == prediction.Shadow && string.Equals(p.DeclaredArm, prediction.Arm, StringComparison.Ordinal) && string.Equals(p.Arm.Experiment, prediction.Experiment, StringComparison.Ordinal));

    /// <summary>A label of the request is held already.</summary>
    public bool HasLabel(string requestId) => _entries.TryGetValue(requestId, out var entry) && entry.Label is not null;

    public JoinEntry GetOrCreate(string requestId)
    {
        if (_entries.TryGetValue(requestId, out var entry))
        {
            return entry;
        }

        var now = time.GetTimestamp();
        // Make room first, so the new id is never the one evicted.
        Evict(now, maxPending - 1);
        entry = new JoinEntry();
        _entries[requestId] = entry;
        _byAge.Enqueue((requestId, now));
        return entry;
    }

    /// <summary>
    /// A new prediction for this process; <paramref name="remoteLabel"/> is a label another instance stored in Redis for
    /// its request. <paramref name="joinedAlready"/>: the label here joined it from Redis, so it is only counted.
    /// </summary>
    public JoinOutcome AddPrediction(Prediction prediction, JoinEntry entry, ObservedLabel? remoteLabel, bool joinedAlready = false, RecordTrace? trace = null)
    {
        var arm = book.Answering(prediction, out var owedBy);
        counts.Predictions++;
        arm.Model = prediction.ModelName;
        arm.Version = prediction.ModelVersion;
        arm.PolicyVersion = prediction.PolicyVersion;
        if (owedBy is null)
        {
            arm.RecordContext(prediction.Context);
        }
        else
        {
            // The arm whose host failed keeps the count of its records the fallback answered, nothing more.
            owedBy.RecordContext(prediction.Context);
            owedBy.RecordAnsweredElsewhere();
        }

        arm.RecordPrediction(owedBy is null && prediction.Fallback, prediction.Latency?.EndToEndMs ?? 0);
        var pending = new PendingPrediction(arm, prediction.Arm, prediction.Output?.Label ?? "", prediction.Output) { Trace = trace };
        CompareWithOtherPath(entry, pending);
        if (joinedAlready)
        {
            // Its join was counted with the label; the meters count it as a prediction only.
            entry.Predictions.Add(pending with { RemotelyJoined = true });
            return JoinOutcome.Pending;
        }

        if (entry.Label is null && remoteLabel is not null)
        {
            // Its label came to another instance first; this one joins (Redis decided who, atomically).
            entry.Predictions.Add(pending with { RemotelyJoined = true });
            Join(pending, remoteLabel);
            RemoteJoins++;
            return JoinOutcome.Joined;
        }

        entry.Predictions.Add(pending);
        if (entry.Label is null)
        {
            counts.PendingPredictions++;
            return JoinOutcome.Pending;
        }

        if (entry.LocalPredictions == 1 && !entry.LabelJoinedRemotely)
        {
            // The label was waiting alone until now.
            counts.PendingLabels--;
        }

        Join(pending, entry.Label);
        return JoinOutcome.Joined;
    }

    public JoinOutcome ApplyLabel(JoinEntry entry, ObservedLabel value)
    {
        if (entry.Label is not null)
        {
            return JoinOutcome.Duplicate;
        }

        counts.Labels++;
        entry.Label = value;
        if (entry.LocalPredictions == 0)
        {
            counts.PendingLabels++;
            return JoinOutcome.Pending;
        }

        return JoinHeldPredictions(entry, value);
    }

    /// <summary>Joins the label to every prediction of the request this instance holds and no other instance joined.</summary>
    public JoinOutcome JoinHeldPredictions(JoinEntry entry, ObservedLabel value)
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

        counts.PendingPredictions -= joined;
        return JoinOutcome.Joined;
    }

    public void Join(PendingPrediction prediction, ObservedLabel label)
    {
        counts.Joined++;
        var score = OutcomeScoring.Score(prediction.PredictedLabel, prediction.Output, label.Value);
        prediction.Arm.RecordJoin(score with { Outcomes = prediction.Arm.ReadOutcomes(label.Outcomes) });
    }

    /// <summary>Removes request ids older than the window or beyond <paramref name="keep"/>, counting what never joined.</summary>
    public ExpiryResult Evict(long now, int keep)
    {
        int entries = 0, labels = 0, predictions = 0;
        while (_byAge.Count > 0 && (_byAge.Count > keep || now - _byAge.Peek().Created >= windowTicks))
        {
            var (requestId, _) = _byAge.Dequeue();
            var entry = _entries[requestId];
            _entries.Remove(requestId);
            entries++;
            var local = entry.LocalPredictions;
            if (entry.Label is not null && local == 0 && !entry.LabelJoinedRemotely)
            {
                // In Redis, the label may have met a prediction on another instance: Redis decides, and counts later.
                if (!(entry.Shared && shared!.TryShare()))
                {
                    labels++;
                    counts.PendingLabels--;
                }
                else
                {
                    shared.Enqueue(new SharedJoinOperation(SharedJoinKind.ExpireLabel, requestId));
                }
            }
            else if (entry.Label is null && local > 0)
            {
                if (!(entry.Shared && shared!.TryShare()))
                {
                    predictions += local;
                    counts.PendingPredictions -= local;
                }
                else
                {
                    shared.Enqueue(new SharedJoinOperation(SharedJoinKind.ExpirePredictions, requestId)
                    {
                        Fields = [.. entry.Predictions.Where(p => !p.RemotelyJoined).Select(p => p.Field)],
                    });
                }
            }
        }

        counts.UnmatchedLabels += labels;
        counts.UnjoinedPredictions += predictions;
        return new ExpiryResult(entries, labels, predictions);
    }

    /// <summary>The traces of the predictions of the request a label here joins (held here, not joined through Redis).</summary>
    public static void AddPredictionTraces(JoinEntry entry, List<RecordTrace>? traces)
    {
        if (traces is null)
        {
            return;
        }

        foreach (var prediction in entry.Predictions)
        {
            if (!prediction.RemotelyJoined && prediction.Trace is { } trace)
            {
                traces.Add(trace);
            }
        }
    }

    // Shadow agreement: a shadow and the primary answer of the same request, compared as soon as both are here.
    private static void CompareWithOtherPath(JoinEntry entry, PendingPrediction added)
    {
        foreach (var other in entry.Predictions)
        {
            if (other.Arm.Shadow == added.Arm.Shadow || !string.Equals(other.Arm.Experiment, added.Arm.Experiment, StringComparison.Ordinal))
            {
                continue;
            }

            var (shadowPrediction, primary) = added.Arm.Shadow ? (added, other) : (other, added);
            shadowPrediction.Arm.RecordShadowComparison(string.Equals(shadowPrediction.PredictedLabel, primary.PredictedLabel, StringComparison.Ordinal)
                && (shadowPrediction.PredictedLabel.Length > 0 || shadowPrediction.Output?.Value == primary.Output?.Value));
        }
    }
}
