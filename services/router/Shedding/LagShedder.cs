using Mesh.Kafka;
using Mesh.Kafka.Telemetry;
using Mesh.Router.Options;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Shedding;

/// <summary>
/// The router's shedding level, from its consumer lag: the sum over its partitions of the lag librdkafka reports in
/// its statistics (the same figures as <c>messaging.kafka.consumer.lag</c> on /metrics, not derived again). The level
/// is worked out afresh only when a new statistics document has arrived, so the consume thread's per-record call is a
/// reference compare; it moves one level per step (a log line each), so shadows are always shed before challengers
/// and restored after them.
/// </summary>
internal sealed partial class LagShedder
{
    private readonly bool _enabled;
    private readonly string _groupId;
    private readonly ShedThresholds _thresholds;
    private readonly KafkaMetrics _metrics;
    private readonly ILogger<LagShedder> _logger;
    private readonly Lock _gate = new();
    private KafkaClientMetrics? _consumer;
    private volatile KafkaStatistics? _seen;
    private volatile ShedLevel _level;

    public LagShedder(IOptions<RouterOptions> options, KafkaClientFactory kafka, RouterTelemetry telemetry, ILogger<LagShedder> logger)
    {
        _enabled = options.Value.Shedding.Enabled;
        _groupId = options.Value.GroupId;
        _thresholds = ShedThresholds.From(options.Value.Shedding);
        _metrics = kafka.Metrics;
        _logger = logger;
        telemetry.TrackShedLevel(() => (int)Current());
    }

    /// <summary>The level now; any thread (the consume thread per record, the metrics exporter, tests).</summary>
    public ShedLevel Current()
    {
        if (!_enabled)
        {
            return ShedLevel.None;
        }

        // The router's one consumer registers its figures when the consume loop starts; until then nothing is shed.
        var consumer = _consumer ??= _metrics.Consumers(_groupId).FirstOrDefault();
        if (consumer is null || ReferenceEquals(consumer.Latest, _seen))
        {
            return _level;
        }

        lock (_gate)
        {
            var latest = consumer.Latest;
            if (!ReferenceEquals(latest, _seen))
            {
                _seen = latest;
                Move(Lag(latest));
            }

            return _level;
        }
    }

    private static long Lag(KafkaStatistics statistics)
    {
        long lag = 0;
        foreach (var partition in statistics.Lags)
        {
            lag += partition.Lag;
        }

        return lag;
    }

    private void Move(long lag)
    {
        var level = _level;
        for (var next = _thresholds.Step(level, lag); next != level; next = _thresholds.Step(level, lag))
        {
            var (enter, exit) = _thresholds.Of(next > level ? next : level);
            if (next > level)
            {
                LogShedding(_logger, (int)next, Describe(next), lag, enter);
            }
            else
            {
                LogRestored(_logger, (int)next, Describe(level), lag, exit);
            }

            level = next;
            _level = level;
        }
    }

    private static string Describe(ShedLevel level) => level switch
    {
        ShedLevel.Shadows => "shadows",
        ShedLevel.Challengers => "challengers (their records go to the fallback arm)",
        _ => "nothing",
    };

    [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "Shedding level {Level}: shedding {What}; consumer lag {Lag} reached {Enter}")]
    private static partial void LogShedding(ILogger logger, int level, string what, long lag, long enter);

    [LoggerMessage(EventId = 131, Level = LogLevel.Information, Message = "Shedding level {Level}: {What} restored; consumer lag {Lag} fell under {Exit}")]
    private static partial void LogRestored(ILogger logger, int level, string what, long lag, long exit);
}
