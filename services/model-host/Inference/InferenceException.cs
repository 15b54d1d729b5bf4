using System.Globalization;
using Grpc.Core;

namespace Mesh.ModelHost.Inference;

/// <summary>
/// A request failure with the status both transports answer with (gRPC status; HTTP maps it), and a
/// message that names the tensor and what was expected. <paramref name="retryAfter"/>, when set, says the failure is
/// passing and when to try again: gRPC answers carry it as <c>grpc-retry-pushback-ms</c> (gRPC's retry design, A6);
/// HTTP answers keep the status alone (503 for UNAVAILABLE).
/// </summary>
internal sealed class InferenceException(StatusCode code, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    /// <summary>The trailer by which a gRPC server tells a client when to retry (gRFC A6).</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    public StatusCode Code { get; } = code;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static InferenceException InvalidArgument(string message) => new(StatusCode.InvalidArgument, message);

    /// <summary>The gRPC answer: the status, the message, and the pushback trailer when the failure is passing.</summary>
    public RpcException ToRpcException()
    {
        if (RetryAfter is not { } after)
        {
            return new RpcException(new Status(Code, Message));
        }

        var trailers = new Metadata { { RetryPushbackTrailer, ((long)after.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) } };
        return new RpcException(new Status(Code, Message), trailers);
    }
}
