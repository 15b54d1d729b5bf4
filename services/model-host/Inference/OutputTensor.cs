namespace Mesh.ModelHost.Inference;

/// <summary>One answered output: its v2 datatype and shape, and its data in the v2 raw encoding.</summary>
internal sealed record OutputTensor(string Name, string Datatype, long[] Shape, byte[] Data);
