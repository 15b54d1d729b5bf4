using Grpc.Core;

namespace Mesh.ModelHost.Inference;

/// <summary>
/// A request failure with the status both transports answer with (gRPC status; HTTP maps it), and a
/// message that names the tensor and what was expected.
/// </summary>
internal sealed class InferenceException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    public static InferenceException InvalidArgument(string message) => new(StatusCode.InvalidArgument, message);
}
