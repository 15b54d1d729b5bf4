namespace Mesh.Cli.Training;

/// <summary>A demo model written to the model repository.</summary>
/// <param name="Name">Model name, the folder under the repository (for example <c>iris-logreg</c>).</param>
/// <param name="Version">Version folder under the model folder (<c>1</c>).</param>
/// <param name="ModelPath">Full path of the written <c>model.onnx</c>.</param>
/// <param name="TrainingAccuracy">Micro accuracy of the ML.NET model on the training rows.</param>
/// <param name="HoldoutAccuracy">Micro accuracy on the held-out rows (<see cref="DemoModelTrainer.HoldoutFileName"/>), which it never saw.</param>
public sealed record TrainedModel(string Name, string Version, string ModelPath, double TrainingAccuracy, double HoldoutAccuracy);
