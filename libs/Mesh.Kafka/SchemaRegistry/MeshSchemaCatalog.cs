using Mesh.Contracts.V1;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>The message type of every mesh topic (docs/architecture.md), for registering and checking their schemas.</summary>
public static class MeshSchemaCatalog
{
    public static IReadOnlyList<MeshSchema> For(MeshTopics topics) =>
    [
        new(topics.Features, FeatureRecord.Descriptor),
        new(topics.Predictions, Prediction.Descriptor),
        new(topics.ShadowPredictions, Prediction.Descriptor),
        new(topics.Labels, Label.Descriptor),
        new(topics.DeadLetter, DeadLetter.Descriptor),
    ];
}
