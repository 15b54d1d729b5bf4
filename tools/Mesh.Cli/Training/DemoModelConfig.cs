namespace Mesh.Cli.Training;

/// <summary>
/// The <c>config.json</c> written next to each <c>model.onnx</c>; the model host reads it to know the
/// input, which ONNX output holds the class probabilities, and the class names in score order.
/// The exported graphs take only <c>Features</c>, so no default values for other inputs are needed.
/// </summary>
internal sealed record DemoModelConfig(
    string Name,
    string Version,
    string Platform,
    string Trainer,
    DemoModelInput Input,
    string ProbabilityOutput,
    IReadOnlyList<string> ClassNames,
    double TrainingAccuracy,
    double HoldoutAccuracy);

internal sealed record DemoModelInput(string Name, string Datatype, IReadOnlyList<long> Shape, IReadOnlyList<string> FeatureNames);
