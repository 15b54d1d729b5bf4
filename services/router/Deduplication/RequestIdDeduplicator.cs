using Mesh.Kafka;
using Mesh.Router.Options;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Deduplication;

/// <summary>
/// Per experiment, the request ids the router has taken on recently (a window bounded by
/// <c>Router:Deduplication:MaxRequestIds</c> and <c>MaxAgeMinutes</c>), so a redelivered or replayed record an
/// experiment already predicted is not predicted again. A request id is claimed when the experiment takes its record
/// on and released when the experiment dead-letters it instead: a dead-lettered record was never predicted, so its
/// replay (<c>mesh dead-letters replay</c>) must be. Claims happen on the consume thread, releases also on producer
/// delivery threads (a failed model call), hence the lock (uncontended almost always).
/// </summary>
internal sealed partial class RequestIdDeduplicator(
    IOptions<RouterOptions> options,
    TimeProvider time,
    RouterTelemetry telemetry,
    ILogger<RequestIdDeduplicator> logger)
{
    private readonly DeduplicationOptions _options = options.Value.Deduplication;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RecentKeyWindow> _windows = new(StringComparer.Ordinal);

    /// <summary>
    /// Claims <paramref name="requestId"/> for <paramref name="experiment"/>: false when the experiment took it on
    /// already (the record is a duplicate: counted, logged at debug, and owes that experiment no output).
    /// </summary>
    public bool TryClaim(string experiment, string requestId, long offset)
    {
        if (!_options.Enabled)
        {
            return true;
        }

        bool claimed;
        lock (_gate)
        {
            if (!_windows.TryGetValue(experiment, out var window))
            {
                window = new RecentKeyWindow(_options.MaxRequestIds, TimeSpan.FromMinutes(_options.MaxAgeMinutes), time);
                _windows[experiment] = window;
            }

            claimed = window.TryAdd(requestId);
        }

        if (!claimed)
        {
            telemetry.DuplicatesSkipped.Add(1, new KeyValuePair<string, object?>("experiment", experiment));
            LogDuplicate(logger, experiment, requestId, offset);
        }

        return claimed;
    }

    /// <summary>The experiment dead-lettered the record: its request id was not predicted, so a replay of it will be.</summary>
    public void Release(string experiment, string requestId)
    {
        if (!_options.Enabled)
        {
            return;
        }

        lock (_gate)
        {
            if (_windows.TryGetValue(experiment, out var window))
            {
                window.Remove(requestId);
            }
        }
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Debug, Message = "Experiment {Experiment}: request {RequestId} (offset {Offset}) was predicted already; not predicted again")]
    private static partial void LogDuplicate(ILogger logger, string experiment, string requestId, long offset);
}
