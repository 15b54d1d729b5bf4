using System.ComponentModel.DataAnnotations;
using Confluent.SchemaRegistry;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// Confluent Schema Registry settings (configuration section <c>Kafka:SchemaRegistry</c>). With no <see cref="Url"/>
/// the services write plain protobuf values, as before; readers accept framed and plain values either way.
/// </summary>
public sealed class SchemaRegistryOptions
{
    public const string SectionName = "Kafka:SchemaRegistry";

    /// <summary>The registry's URL (several, comma-separated, for a cluster). Empty: values are written plain.</summary>
    public string? Url { get; set; }

    /// <summary><c>user:password</c> for HTTP basic authentication (Confluent Cloud: API key and secret).</summary>
    public string? BasicAuthUserInfo { get; set; }

    /// <summary>How a bearer token is obtained: <c>StaticToken</c> (with <see cref="BearerAuthToken"/>) or <c>OAuthBearer</c>.</summary>
    public BearerAuthCredentialsSource? BearerAuthCredentialsSource { get; set; }

    public string? BearerAuthToken { get; set; }

    public string? BearerAuthLogicalCluster { get; set; }

    public string? BearerAuthIdentityPoolId { get; set; }

    public string? BearerAuthTokenEndpointUrl { get; set; }

    public string? BearerAuthClientId { get; set; }

    public string? BearerAuthClientSecret { get; set; }

    public string? BearerAuthScope { get; set; }

    /// <summary>
    /// Register the mesh.v1 schemas when a writer starts (true), or only look them up (false): production registries
    /// usually let CI register (<c>mesh schemas register</c>) and give services read-only credentials.
    /// </summary>
    public bool AutoRegister { get; set; } = true;

    /// <summary><c>Topic</c> (<c>&lt;topic&gt;-value</c>, the default), <c>Record</c> (the message's full name) or <c>TopicRecord</c>.</summary>
    public SubjectNameStrategy SubjectNameStrategy { get; set; } = SubjectNameStrategy.Topic;

    [Range(1, 600_000)]
    public int RequestTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// Attempts of a failed registry request, with Confluent's client's exponential back-off. At least 1: with 0,
    /// Confluent.SchemaRegistry 2.16's client sends no request and fails every call with a NullReferenceException.
    /// </summary>
    [Range(1, 100)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>
    /// Milliseconds a writer's registration of a subject it has not cached, or a reader's look-up of a schema id it has
    /// not cached, waits for a registry that does not answer (connection refused, timeout, 5xx), retrying with back-off
    /// and holding its record; past it the service takes its fatal path (<see cref="SchemaRegistryUnavailableException"/>).
    /// Cached subjects and ids need no registry. At start a registry that does not answer is a configuration error at once.
    /// </summary>
    [Range(0, 3_600_000)]
    public int UnavailableRetryMs { get; set; } = 60_000;

    /// <summary>Whether a registry is configured, so writers frame their values.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Url);

    /// <summary>The first problem of these settings, naming the setting, or null when they are usable.</summary>
    public string? Validate()
    {
        if (!Enabled)
        {
            return null;
        }

        foreach (var url in Url!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"{SectionName}:Url: '{url}' is not an http:// or https:// URL.";
            }
        }

        if (SubjectNameStrategy is not (SubjectNameStrategy.Topic or SubjectNameStrategy.Record or SubjectNameStrategy.TopicRecord))
        {
            return $"{SectionName}:SubjectNameStrategy: '{SubjectNameStrategy}' is not one of Topic, Record, TopicRecord.";
        }

        if (BearerAuthCredentialsSource == Confluent.SchemaRegistry.BearerAuthCredentialsSource.StaticToken && string.IsNullOrEmpty(BearerAuthToken))
        {
            return $"{SectionName}:BearerAuthToken: must be set when BearerAuthCredentialsSource is StaticToken.";
        }

        return null;
    }

    /// <summary>
    /// The refusal of a registry that did not answer, naming the setting. The innermost cause (e.g. "Connection
    /// refused") stands for the client's wrapped exception texts; a registry's own error answer is kept whole.
    /// </summary>
    internal string DidNotAnswer(Exception e)
    {
        var cause = e;
        while (cause is not SchemaRegistryException && cause.InnerException is { Message.Length: > 0 } inner)
        {
            cause = inner;
        }

        return $"{SectionName}:Url: the schema registry at '{Url}' did not answer: {cause.Message}";
    }

    /// <summary>The settings of Confluent's <see cref="CachedSchemaRegistryClient"/>.</summary>
    public SchemaRegistryConfig ToClientConfig()
    {
        var config = new SchemaRegistryConfig
        {
            Url = Url,
            RequestTimeoutMs = RequestTimeoutMs,
            MaxRetries = MaxRetries,
        };
        if (!string.IsNullOrEmpty(BasicAuthUserInfo))
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = BasicAuthUserInfo;
        }

        if (BearerAuthCredentialsSource is { } bearer)
        {
            config.BearerAuthCredentialsSource = bearer;
            config.BearerAuthToken = BearerAuthToken;
            config.BearerAuthLogicalCluster = BearerAuthLogicalCluster;
            config.BearerAuthIdentityPoolId = BearerAuthIdentityPoolId;
            config.BearerAuthTokenEndpointUrl = BearerAuthTokenEndpointUrl;
            config.BearerAuthClientId = BearerAuthClientId;
            config.BearerAuthClientSecret = BearerAuthClientSecret;
            config.BearerAuthScope = BearerAuthScope;
        }

        return config;
    }
}
