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

    /// <summary>
    /// Runs <paramref name="call"/> until the registry answers: while it does not (<see cref="IsUnavailable"/>), waits
    /// with <see cref="Backoff"/>, and past <see cref="SchemaRegistryOptions.UnavailableRetryMs"/> throws
    /// <see cref="SchemaRegistryUnavailableException"/> naming the subject and <paramref name="what"/> was being done.
    /// An answer that waiting does not change (a refusal, an unknown id) reaches the caller as it was thrown.
    /// </summary>
    public static T Run<T>(Func<T> call, string subject, string what, SchemaRegistryOptions options, CancellationToken stopping)
    {
        var backoff = new Backoff(s_firstWait, s_longestWait, TimeSpan.FromMilliseconds(options.UnavailableRetryMs));
        while (true)
        {
            try
            {
                return call();
            }
            catch (Exception e) when (IsUnavailable(e, stopping))
            {
                if (backoff.Exceeded())
                {
                    throw new SchemaRegistryUnavailableException(subject,
                        $"{options.DidNotAnswer(e)} (waited {backoff.Bound.TotalSeconds:0.###} s, {SchemaRegistryOptions.SectionName}:{nameof(SchemaRegistryOptions.UnavailableRetryMs)}, " +
                        $"{what}).", e);
                }

                backoff.Wait(stopping);
            }
        }
    }

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
