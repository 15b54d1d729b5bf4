using Google.Protobuf;
using Mesh.Cli.DeadLetters;
using Mesh.Contracts.V1;
using Parquet.Serialization;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// Reads logged Predictions and Labels from their topics (to the end, once, committing nothing) or from files:
/// the consumer's JSON lines (protobuf JSON, either field spelling) or Parquet, and Labels as JSON lines.
/// </summary>
internal sealed class LoggedTrafficSource(Func<string> bootstrapServers)
{
    private static readonly JsonParser s_json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public async Task<IReadOnlyList<LoggedPrediction>> PredictionsAsync(string? file, string topic, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            return [.. Topic(topic, cancellationToken).Select(v => LoggedPrediction.From(Prediction.Parser.ParseFrom(v)))];
        }

        if (file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            await using var stream = File.OpenRead(file);
            var rows = await ParquetSerializer.DeserializeAsync<LoggedPredictionRow>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return [.. rows.Data.Select(r => r.ToLogged())];
        }

        return [.. Lines(file).Select(l => LoggedPrediction.From(s_json.Parse<Prediction>(l)))];
    }

    public IReadOnlyList<Label> Labels(string? file, string topic, CancellationToken cancellationToken) =>
        file is null
            ? [.. Topic(topic, cancellationToken).Select(v => Label.Parser.ParseFrom(v))]
            : [.. Lines(file).Select(l => s_json.Parse<Label>(l))];

    private IEnumerable<byte[]> Topic(string topic, CancellationToken cancellationToken) =>
        new TopicSnapshotReader(bootstrapServers()).Read(topic, cancellationToken).Select(r => r.Message.Value ?? []);

    private static IEnumerable<string> Lines(string file) =>
        File.Exists(file)
            ? File.ReadLines(file).Where(l => !string.IsNullOrWhiteSpace(l))
            : throw new ArgumentException($"'{file}' does not exist.");
}
