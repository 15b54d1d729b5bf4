using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.ModelHost.Telemetry;

/// <summary>The service's one Meter and ActivitySource.</summary>
internal sealed class ModelHostTelemetry
{
    public const string Name = "Mesh.ModelHost";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _inferenceDuration;

    public ModelHostTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _requests = meter.CreateCounter<long>("mesh.model_host.requests", "{request}", "ModelInfer calls, by model, version and gRPC status.");
        _rows = meter.CreateCounter<long>("mesh.model_host.rows", "{row}", "Rows scored by ModelInfer.");
        _inferenceDuration = meter.CreateHistogram<double>("mesh.model_host.inference.duration", "s", "Time of the ONNX Runtime call of one ModelInfer.");
    }

    public static ActivitySource ActivitySource { get; } = new(Name);

    public void RecordRequest(string model, string version, string status)
    {
        var tags = new TagList { { "model", model }, { "version", version }, { "status", status } };
        _requests.Add(1, tags);
    }

    public void RecordInference(string model, string version, int rows, double seconds)
    {
        var tags = new TagList { { "model", model }, { "version", version } };
        _rows.Add(rows, tags);
        _inferenceDuration.Record(seconds, tags);
    }
}
