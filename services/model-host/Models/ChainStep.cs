using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Models;

/// <summary>
/// A step of a chain before the last: its session, the inputs it takes in the order it takes them, and the outputs
/// it must produce, which are the next step's inputs in the next step's order (so its results feed it as they are).
/// </summary>
internal sealed record ChainStep(string Name, InferenceSession Session, string[] InputNames, string[] OutputNames);
