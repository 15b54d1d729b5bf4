using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;

namespace Mesh.ServiceDefaults.Telemetry;

/// <summary>The OTLP span exporter, telling <see cref="SpanExportGate"/> which spans left the queue.</summary>
public sealed class GatedOtlpTraceExporter(OtlpExporterOptions options, SpanExportGate gate) : OtlpTraceExporter(options)
{
    public override ExportResult Export(in Batch<Activity> batch)
    {
        // Counted before (a batch leaves the SDK's queue as it is read) and released after: until then they may still
        // hold a place in that queue.
        var count = (int)batch.Count;
        try
        {
            return base.Export(batch);
        }
        finally
        {
            gate.OnExported(count);
        }
    }
}
