namespace Mesh.ModelHost.Inference;

/// <summary>What both transports hand the inference core.</summary>
internal sealed class InferenceRequest(string modelName, string modelVersion, string id, List<InputTensor> inputs, IReadOnlyList<string> requestedOutputs) : IDisposable
{
    public string ModelName { get; } = modelName;

    public string ModelVersion { get; } = modelVersion;

    public string Id { get; } = id;

    public List<InputTensor> Inputs { get; } = inputs;

    public IReadOnlyList<string> RequestedOutputs { get; } = requestedOutputs;

    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }
    }
}
