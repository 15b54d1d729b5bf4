namespace Mesh.Consumer.Output;

/// <summary>How a line-oriented sink writes a prediction.</summary>
internal enum PredictionLineFormat
{
    Json,
    Csv,
}
