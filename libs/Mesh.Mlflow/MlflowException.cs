using System.Net;

namespace Mesh.Mlflow;

/// <summary>
/// An error answer of the MLflow REST API: its <c>error_code</c> (<see cref="MlflowErrorCodes"/>), its
/// message and the HTTP status. Specific codes have subclasses callers can catch.
/// </summary>
public class MlflowException(string errorCode, string message, HttpStatusCode? statusCode = null, Exception? inner = null)
    : Exception($"MLflow {errorCode}: {message}", inner)
{
    /// <summary>MLflow's error code, for example <c>RESOURCE_DOES_NOT_EXIST</c>.</summary>
    public string ErrorCode { get; } = errorCode;

    /// <summary>The message the server sent.</summary>
    public string ServerMessage { get; } = message;

    /// <summary>The HTTP status of the answer; null when no answer arrived.</summary>
    public HttpStatusCode? StatusCode { get; } = statusCode;

    internal static MlflowException Create(string errorCode, string message, HttpStatusCode status) => errorCode switch
    {
        MlflowErrorCodes.ResourceDoesNotExist => new MlflowResourceNotFoundException(message, status),
        MlflowErrorCodes.InvalidParameterValue or MlflowErrorCodes.BadRequest => new MlflowInvalidParameterException(errorCode, message, status),
        MlflowErrorCodes.PermissionDenied or MlflowErrorCodes.Unauthenticated => new MlflowAccessDeniedException(errorCode, message, status),
        _ => new MlflowException(errorCode, message, status),
    };
}

/// <summary><c>RESOURCE_DOES_NOT_EXIST</c>: no such model, version, alias, run or artifact.</summary>
public sealed class MlflowResourceNotFoundException(string message, HttpStatusCode? statusCode = HttpStatusCode.NotFound)
    : MlflowException(MlflowErrorCodes.ResourceDoesNotExist, message, statusCode);

/// <summary><c>INVALID_PARAMETER_VALUE</c> or <c>BAD_REQUEST</c>: the request was malformed.</summary>
public sealed class MlflowInvalidParameterException(string errorCode, string message, HttpStatusCode? statusCode)
    : MlflowException(errorCode, message, statusCode);

/// <summary><c>PERMISSION_DENIED</c> or <c>UNAUTHENTICATED</c>: check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD.</summary>
public sealed class MlflowAccessDeniedException(string errorCode, string message, HttpStatusCode? statusCode)
    : MlflowException(errorCode, message, statusCode);

/// <summary>The error codes the MLflow REST API answers with.</summary>
public static class MlflowErrorCodes
{
    /// <summary>The named entity does not exist.</summary>
    public const string ResourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST";

    /// <summary>The entity exists already.</summary>
    public const string ResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS";

    /// <summary>A parameter has a wrong value.</summary>
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";

    /// <summary>The request is malformed.</summary>
    public const string BadRequest = "BAD_REQUEST";

    /// <summary>The caller may not do this.</summary>
    public const string PermissionDenied = "PERMISSION_DENIED";

    /// <summary>No or wrong credentials.</summary>
    public const string Unauthenticated = "UNAUTHENTICATED";

    /// <summary>Too many requests (HTTP 429).</summary>
    public const string RequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED";

    /// <summary>A server failure.</summary>
    public const string InternalError = "INTERNAL_ERROR";

    /// <summary>The server is temporarily unavailable.</summary>
    public const string TemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE";

    /// <summary>Used by this client when the answer carried no MLflow error body.</summary>
    public const string Unknown = "UNKNOWN";
}
