using Mesh.Contracts.V1;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The join by entity and time (<c>MetricsSink:JoinBy=EntityTime</c>): a label joins the latest prediction of its
/// entity made at or before the label's observed time that has no label yet; labels that come before any such
/// prediction wait, within the window, for one. The predictions themselves are held by the request-id join.
/// Guarded by the joiner's lock.
/// </summary>
internal sealed class EntityTimeJoin(TimeProvider time, long windowTicks, RequestIdJoin requests, JoinCounts counts)
{
    // Bounds what one busy entity can hold.
    private const int MaxPerEntity = 64;
    private readonly Dictionary<string, EntityJoinState> _entities = new(StringComparer.Ordinal);

    /// <param name="joined">The request the label joined, when it joined one.</param>
    public JoinOutcome AddLabel(Label label, ObservedLabel value, out JoinEntry? joined)
    {
        var observed = label.ObservedTime?.ToDateTimeOffset().UtcTicks ?? time.GetUtcNow().UtcTicks;
        joined = null;
        var state = Entity(label.EntityId);
        if (state.LabelsSeen.Exists(l => l.Observed == observed && l.Value == value.Value))
        {
            // A redelivered label would otherwise join the entity's next older prediction.
            return JoinOutcome.Duplicate;
        }

        Capped(state.LabelsSeen, (observed, value.Value, time.GetTimestamp()));
        JoinEntry? best = null;
        var bestTicks = long.MinValue;
        foreach (var (ticks, requestId) in state.Predictions)
        {
            if (ticks <= observed && ticks >= bestTicks && requests.Find(requestId) is { Label: null } candidate)
            {
                (best, bestTicks) = (candidate, ticks);
            }
        }

        if (best is not null)
        {
            joined = best;
            return requests.ApplyLabel(best, value);
        }

        if (state.Waiting.Count >= MaxPerEntity)
        {
            state.Waiting.RemoveAt(0);
            counts.PendingLabels--;
            counts.UnmatchedLabels++;
        }

        state.Waiting.Add((observed, value, time.GetTimestamp()));
        counts.Labels++;
        counts.PendingLabels++;
        return JoinOutcome.Pending;
    }

    /// <summary>Records the entity's new prediction; returns a waiting label it answers, if any (no longer waiting).</summary>
    public ObservedLabel? AddPrediction(Prediction prediction)
    {
        if (prediction.EntityId.Length == 0)
        {
            return null;
        }

        var ticks = prediction.EventTime?.ToDateTimeOffset().UtcTicks ?? time.GetUtcNow().UtcTicks;
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

    /// <summary>Drops what is older than the window, and predictions the request-id join no longer holds; returns the labels that never joined.</summary>
    public int Expire(long now)
    {
        var unmatched = 0;
        List<string>? empty = null;
        foreach (var (entityId, state) in _entities)
        {
            unmatched += state.Waiting.RemoveAll(w => now - w.Seen >= windowTicks);
            state.LabelsSeen.RemoveAll(l => now - l.Seen >= windowTicks);
            state.Predictions.RemoveAll(p => requests.Find(p.RequestId) is null);
            if (state.Predictions.Count == 0 && state.Waiting.Count == 0 && state.LabelsSeen.Count == 0)
            {
                (empty ??= []).Add(entityId);
            }
        }

        foreach (var entityId in empty ?? [])
        {
            _entities.Remove(entityId);
        }

        counts.PendingLabels -= unmatched;
        counts.UnmatchedLabels += unmatched;
        return unmatched;
    }

    private EntityJoinState Entity(string entityId)
    {
        if (!_entities.TryGetValue(entityId, out var state))
        {
            state = new EntityJoinState();
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
}
