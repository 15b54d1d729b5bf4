using System.Net;
using Confluent.SchemaRegistry;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>
/// Waiting out a registry that does not answer. Confluent's client retries only answers of 408, 429 and 5xx, and
/// only <see cref="SchemaRegistryOptions.MaxRetries"/> times; a refused connection (the registry's process gone, its
/// port closed) fails at once. A writer's new registration and a reader's look-up of an uncached id are retried
/// here with <see cref="Backoff"/> for <see cref="SchemaRegistryOptions.UnavailableRetryMs"/>, holding their record.
/// </summary>
internal static class RegistryRetry
{
    private static readonly TimeSpan s_firstWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_longestWait = TimeSpan.FromSeconds(2);

    public static Backoff Backoff(SchemaRegistryOptions options) =>
        new(s_firstWait, s_longestWait, TimeSpan.FromMilliseconds(options.UnavailableRetryMs));

    /// <summary>
    /// Whether <paramref name="e"/> says the registry did not answer (worth waiting for), as opposed to an answer
    /// (a refused schema, an unknown id) that waiting does not change.
    /// </summary>
    public static bool IsUnavailable(Exception e, CancellationToken cancellationToken) => e switch
    {
        // An answer (a SchemaRegistryException is an HttpRequestException): only 408, 429 and 5xx are worth waiting for.
        SchemaRegistryException { Status: var status } => (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        HttpRequestException => true,
        // The client's own request timeout, not a stop of the service.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AggregateException { InnerException: { } inner } => IsUnavailable(inner, cancellationToken),
        _ => false,
    };
}
