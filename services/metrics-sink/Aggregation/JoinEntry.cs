namespace Mesh.MetricsSink.Aggregation;

/// <summary>What the request-id join holds for one request id. Guarded by the joiner's lock.</summary>
internal sealed class JoinEntry
{
    public ObservedLabel? Label { get; set; }

    /// <summary>Some record of this request is in Redis, so its expiry is Redis's to decide.</summary>
    public bool Shared { get; set; }

    /// <summary>The label here joined predictions another instance stored in Redis: it is not waiting.</summary>
    public bool LabelJoinedRemotely { get; set; }

    public List<PendingPrediction> Predictions { get; } = new(1);

    /// <summary>
    /// The Redis fields of the predictions the label here joined without holding them: read again here (a restarted
    /// reader of a record whose counts never reached Redis), such a prediction is counted, not joined a second time.
    /// </summary>
    public HashSet<string>? JoinedFromRedis { get; set; }

    /// <summary>Predictions this process holds that a label here would join (not those joined through Redis).</summary>
    public int LocalPredictions
    {
        get
        {
            var count = 0;
            foreach (var prediction in Predictions)
            {
                if (!prediction.RemotelyJoined)
                {
                    count++;
                }
            }

            return count;
        }
    }
}
