namespace Mesh.ModelHost.Tests;

/// <summary>
/// A model host of its own, built as Program.cs builds it, serving the chain test models (a chain that
/// cannot load must not change what the shared host's tests see).
/// </summary>
public sealed class ChainHostFixture() : FolderHostFixture("mesh-model-host-chain-")
{
    protected override Task WriteModelsAsync(string repository)
    {
        Onnx.ChainModels.WriteAll(repository);
        return Task.CompletedTask;
    }
}
