using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Mesh.Kafka;

namespace Mesh.MetricsSink.Drift;

/// <summary>
/// Produces drift alerts to the alerts topic from the window clock's thread. Fire and forget with a delivery report:
/// an alert the broker refuses is logged (the gauge and the log line still say it), never blocking the window.
/// </summary>
internal sealed partial class KafkaDriftAlertSink(KafkaClientFactory kafka, string topic, ILogger<KafkaDriftAlertSink> logger) : IDriftAlertSink, IDisposable
{
    private static readonly byte[] s_contentType = Encoding.ASCII.GetBytes("application/json");
    private static readonly JsonSerializerOptions s_json = new();

    private readonly Lazy<IProducer<byte[], byte[]>> _producer = new(() => kafka.CreateProducer("mesh-metrics-sink-alerts"));

    public void Publish(DriftAlert alert)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes($"{alert.Experiment}/{alert.Arm}"),
            Value = JsonSerializer.SerializeToUtf8Bytes(alert, s_json),
            Headers = new Headers { { MeshHeaders.ContentType, s_contentType } },
        };
        _producer.Value.Produce(topic, message, report =>
        {
            if (report.Error.IsError)
            {
                LogNotDelivered(alert.Experiment, alert.Arm, alert.Feature, topic, report.Error.Reason);
            }
        });
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }
    }

    [LoggerMessage(EventId = 65, Level = LogLevel.Warning, Message = "Drift alert of {Experiment}/{Arm} {Feature} not delivered to {Topic}: {Reason}")]
    private partial void LogNotDelivered(string experiment, string arm, string feature, string topic, string reason);
}
