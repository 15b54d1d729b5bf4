using Mesh.ModelHost.Inference;

namespace Mesh.ModelHost.Batching;

/// <summary>What the batcher runs a batch with: one model version's session, called from the batcher's workers.</summary>
internal interface IModelRunner
{
    /// <summary>Runs the model once on validated inputs in the model's input order; per ONNX output, its shape and v2 raw bytes.</summary>
    public RunOutput[] Run(IReadOnlyList<InputTensor> inputs);
}
