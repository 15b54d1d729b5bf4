namespace Mesh.ModelHost.Inference;

/// <summary>What the inference core answers: outputs in the order asked and response parameters.</summary>
internal sealed record InferenceResult(string ModelName, string ModelVersion, string Id, IReadOnlyList<OutputTensor> Outputs, string? ClassNamesJson);
