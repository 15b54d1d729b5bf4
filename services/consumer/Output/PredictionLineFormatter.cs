using Google.Protobuf;
using Mesh.Contracts.V1;

namespace Mesh.Consumer.Output;

/// <summary>
/// One Prediction as one line of protobuf's canonical JSON (camelCase names, RFC 3339 times). Default values are
/// written too, so every line has the same fields for the data teams reading them.
/// </summary>
internal static class PredictionLineFormatter
{
    private static readonly JsonFormatter s_formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
    private static readonly JsonParser s_parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>
    /// The JSON property that carries fields a newer producer added and this build does not know: their protobuf
    /// wire bytes, base64. Parsing ignores it.
    /// </summary>
    public const string UnknownFieldsName = "_unknownFields";

    public static string Format(Prediction prediction) => s_formatter.Format(prediction);

    public static Prediction Parse(string line) => s_parser.Parse<Prediction>(line);
}
