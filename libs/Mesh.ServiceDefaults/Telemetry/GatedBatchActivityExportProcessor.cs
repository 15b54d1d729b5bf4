using System.Diagnostics;
using OpenTelemetry;

namespace Mesh.ServiceDefaults.Telemetry;

/// <summary>
/// The SDK's batch span processor, with every span passing <see cref="SpanExportGate"/> first so that a drop is
/// counted on /metrics rather than silent. Its exporter must report each batch to the same gate
/// (<see cref="GatedOtlpTraceExporter"/> does).
/// </summary>
public sealed class GatedBatchActivityExportProcessor(
    BaseExporter<Activity> exporter,
    SpanExportGate gate,
    int maxQueueSize,
    int scheduledDelayMilliseconds,
    int exporterTimeoutMilliseconds,
    int maxExportBatchSize)
    : BatchActivityExportProcessor(exporter, maxQueueSize, scheduledDelayMilliseconds, exporterTimeoutMilliseconds, maxExportBatchSize)
{
    public override void OnEnd(Activity data)
    {
        // As the base does: a span not sampled for recording is never exported, so it is not a drop either.
        if (!data.Recorded || !gate.TryEnter())
        {
            return;
        }

        base.OnEnd(data);
    }
}
