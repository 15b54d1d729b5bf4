namespace Mesh.MetricsSink.Aggregation;

/// <summary>What a joiner asks the shared join state (Redis) to decide.</summary>
internal enum SharedJoinKind
{
    /// <summary>A prediction: new or seen elsewhere, and the label waiting for it, if any.</summary>
    Prediction,

    /// <summary>A label: new or seen elsewhere, and the predictions waiting for it.</summary>
    Label,

    /// <summary>This instance's predictions of a request expired unlabelled here: joined elsewhere, or given up.</summary>
    ExpirePredictions,

    /// <summary>This instance's label of a request expired without a prediction here: joined elsewhere, or given up.</summary>
    ExpireLabel,
}
