using Mesh.ModelHost.Batching;
using Mesh.ModelHost.Inference;

namespace Mesh.ModelHost.Models;

/// <summary>What a served version runs: one ONNX graph, or a chain of them run as one; owns its sessions.</summary>
internal interface IModelSession : IModelRunner, IDisposable
{
    /// <summary>Runs zeros through every session once, so the first request does not pay for lazy initialization.</summary>
    public RunOutput[] WarmUp();
}
