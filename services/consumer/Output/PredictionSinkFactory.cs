using Mesh.Consumer.Options;

namespace Mesh.Consumer.Output;

/// <summary>Opens the sink <c>Consumer:Format</c> and <c>Consumer:Output</c> ask for.</summary>
internal static class PredictionSinkFactory
{
    // Parquet files are whole or nothing: without a roll setting, one file a minute.
    private static readonly TimeSpan s_defaultParquetRoll = TimeSpan.FromMinutes(1);

    public static IPredictionSink Open(ConsumerOptions o, TimeProvider time)
    {
        var maxAge = TimeSpan.FromSeconds(o.RollIntervalSeconds);
        switch (o.ParsedFormat)
        {
            case OutputFormat.Table:
                return new LiveTableSink(Console.Out, time);
            case OutputFormat.Parquet:
                return new ParquetPredictionSink(o.Output, o.RollMaxBytes, o.Rolls ? maxAge : s_defaultParquetRoll, time);
            default:
                var format = o.ParsedFormat == OutputFormat.Csv ? PredictionLineFormat.Csv : PredictionLineFormat.Json;
                var header = format == PredictionLineFormat.Csv ? PredictionCsv.Header : null;
                ILineSink lines = o.Rolls
                    ? new RollingFileSink(o.Output, o.RollMaxBytes, maxAge, o.Fsync, header, time)
                    : StreamLineSink.Open(o.Output, header, o.Fsync);
                return new LinePredictionSink(lines, format);
        }
    }
}
