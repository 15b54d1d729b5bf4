using System.Globalization;

namespace Mesh.Mlflow;

/// <summary>
/// Where the MLflow tracking server is and how to authenticate, read from the same environment variables
/// the MLflow Python client reads, so one environment configures both.
/// </summary>
public sealed class MlflowClientOptions
{
    /// <summary>The tracking server, for example <c>http://mlflow:5000</c> (<c>MLFLOW_TRACKING_URI</c>).</summary>
    public Uri? TrackingUri { get; set; }

    /// <summary>Bearer token (<c>MLFLOW_TRACKING_TOKEN</c>); takes precedence over basic auth.</summary>
    public string? Token { get; set; }

    /// <summary>Basic-auth user (<c>MLFLOW_TRACKING_USERNAME</c>), used with <see cref="Password"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Basic-auth password (<c>MLFLOW_TRACKING_PASSWORD</c>).</summary>
    public string? Password { get; set; }

    /// <summary>Retries after a 429, a 5xx or a connection failure (<c>MLFLOW_HTTP_REQUEST_MAX_RETRIES</c>, default 5).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Backoff base in seconds: retry n waits factor × 2^(n-1) unless the server sends Retry-After (<c>MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR</c>, default 2).</summary>
    public double BackoffFactor { get; set; } = 2;

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one HTTP request (<c>MLFLOW_HTTP_REQUEST_TIMEOUT</c> seconds, default 120).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Whether <see cref="MlflowClient.DownloadArtifactsAsync"/> copies <c>file:</c> URIs and local paths the server
    /// answers. Off by default: they name the server's disk, not this machine's (MLflow 3 serves artifacts through its
    /// proxy, <c>mlflow-artifacts:</c>, unless started with <c>--no-serve-artifacts</c>).
    /// </summary>
    public bool AllowLocalArtifacts { get; set; }

    /// <summary>Reads the MLflow environment variables; unset ones keep their defaults.</summary>
    /// <exception cref="FormatException">A variable is set to something MLflow would not accept either.</exception>
    public static MlflowClientOptions FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var options = new MlflowClientOptions
        {
            Token = Blank(read("MLFLOW_TRACKING_TOKEN")),
            Username = Blank(read("MLFLOW_TRACKING_USERNAME")),
            Password = Blank(read("MLFLOW_TRACKING_PASSWORD")),
        };
        if (Blank(read("MLFLOW_TRACKING_URI")) is { } uri)
        {
            options.TrackingUri = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
                ? parsed
                : throw new FormatException($"MLFLOW_TRACKING_URI '{uri}' is not an http(s) URL of an MLflow tracking server.");
        }

        if (Blank(read("MLFLOW_HTTP_REQUEST_MAX_RETRIES")) is { } retries)
        {
            options.MaxRetries = int.TryParse(retries, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new FormatException($"MLFLOW_HTTP_REQUEST_MAX_RETRIES '{retries}' is not a whole number.");
        }

        if (Blank(read("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")) is { } factor)
        {
            options.BackoffFactor = double.TryParse(factor, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw new FormatException($"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR '{factor}' is not a non-negative number.");
        }

        if (Blank(read("MLFLOW_HTTP_REQUEST_TIMEOUT")) is { } timeout)
        {
            options.RequestTimeout = double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
                ? TimeSpan.FromSeconds(value)
                : throw new FormatException($"MLFLOW_HTTP_REQUEST_TIMEOUT '{timeout}' is not a positive number of seconds.");
        }

        return options;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
