using OpenTelemetry;

namespace Mesh.Router.Tests;

/// <summary>Spans the export queue cannot hold are counted on /metrics, never lost in silence (ServiceDefaults, shared by every service).</summary>
public sealed class DroppedSpansTests
{
    [Fact]
    public void Processor_ExporterStuckWhileSpansPourIn_EverySpanExportedOrCountedAsDropped()
    {
        const int Capacity = 4;
        const int Spans = 20;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var readings = new ProcessedReadings(factory);
        var telemetry = new SpanExportTelemetry(factory);
        var gate = new SpanExportGate(Capacity, telemetry);
        using var exporter = new StuckExporter(gate);
        using var processor = new GatedBatchActivityExportProcessor(exporter, gate, Capacity, scheduledDelayMilliseconds: 10, exporterTimeoutMilliseconds: 30_000, maxExportBatchSize: 1);
        using var source = new ActivitySource("Mesh.Test.DroppedSpans");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = processor.OnEnd,
        };
        ActivitySource.AddActivityListener(listener);
        Assert.Equal((0, 0), readings.Read());

        for (var i = 0; i < Spans; i++)
        {
            source.StartActivity("span " + i)!.Stop();
        }

        // The queue (with the batch the exporter holds) is full at the capacity; the rest is dropped and counted.
        var (_, droppedWhileStuck) = readings.Read();
        Assert.Equal(Spans - Capacity, droppedWhileStuck);

        exporter.Release();
        Assert.True(processor.ForceFlush(30_000));
        var (exported, dropped) = readings.Read();
        Assert.Equal(droppedWhileStuck, dropped);
        Assert.Equal(Spans, exported + dropped);
        Assert.Equal(exported, exporter.Received);
    }

    /// <summary>An exporter whose first call hangs until released, as one does when its collector stops answering.</summary>
    private sealed class StuckExporter(SpanExportGate gate) : BaseExporter<Activity>
    {
        private readonly ManualResetEventSlim _released = new();
        private int _received;

        public int Received => Volatile.Read(ref _received);

        public void Release() => _released.Set();

        public override ExportResult Export(in Batch<Activity> batch)
        {
            _released.Wait();
            var count = 0;
            foreach (var _ in batch)
            {
                count++;
            }

            Interlocked.Add(ref _received, count);
            gate.OnExported(count);
            return ExportResult.Success;
        }

        protected override void Dispose(bool disposing)
        {
            _released.Set();
            _released.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary><c>otel.sdk.processor.span.processed</c> as a metrics reader collects it: exported, and dropped (<c>error.type=queue_full</c>).</summary>
    /// <remarks>Only this test's meter: another test's span export, in the same process, has a meter of the same name.</remarks>
    private sealed class ProcessedReadings : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _exported;
        private long _dropped;

        public ProcessedReadings(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SpanExportTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, factory)
                    && instrument.Name == "otel.sdk.processor.span.processed")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                var dropped = false;
                foreach (var tag in tags)
                {
                    dropped |= tag.Key == "error.type" && (string?)tag.Value == "queue_full";
                }

                if (dropped)
                {
                    _dropped = value;
                }
                else
                {
                    _exported = value;
                }
            });
            _listener.Start();
        }

        public (long Exported, long Dropped) Read()
        {
            _exported = _dropped = -1;
            _listener.RecordObservableInstruments();
            return (_exported, _dropped);
        }

        public void Dispose() => _listener.Dispose();
    }
}
