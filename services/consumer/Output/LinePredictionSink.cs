using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>Predictions as text lines (JSON or CSV) into a line target: stdout, one file, or rolling files.</summary>
internal sealed class LinePredictionSink(ILineSink lines, PredictionLineFormat format) : IPredictionSink
{
    public string Description => lines is StreamLineSink s ? s.Description : lines is RollingFileSink r ? r.Description : "lines";

    public void Write(Prediction prediction, ArraySegment<byte> raw)
    {
        if (format == PredictionLineFormat.Csv)
        {
            lines.WriteLine(PredictionCsv.Format(prediction));
            return;
        }

        var line = PredictionLineFormatter.Format(prediction);
        if (UnknownFields.Extract(raw) is { } unknown)
        {
            // Kept, not dropped: a reader built from the newer proto decodes them from this field.
            line = string.Concat(line.AsSpan(0, line.Length - 1), ", \"" + PredictionLineFormatter.UnknownFieldsName + "\": \"", Convert.ToBase64String(unknown), "\" }");
        }

        lines.WriteLine(line);
    }

    public bool Flush(bool force)
    {
        lines.Flush();
        return true;
    }

    public void Dispose() => lines.Dispose();
}
