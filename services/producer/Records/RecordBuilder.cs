using Google.Protobuf.WellKnownTypes;
using Mesh.Contracts.V1;
using Mesh.Producer.Csv;

namespace Mesh.Producer.Records;

/// <summary>
/// Turns CSV rows into FeatureRecords and their Labels: request ids <c>{runId}-{n}</c> are unique per record,
/// entity ids <c>entity-{k}</c> come from a seeded generator so a run can be repeated.
/// </summary>
internal sealed class RecordBuilder(string runId, string featureSet, IReadOnlyList<string> featureNames, int entities, int seed)
{
    private readonly Random _random = new(seed);
    private long _sequence;

    public long Built => _sequence;

    public (FeatureRecord Record, Label Label) Build(FeatureRow row, DateTime sendTimeUtc)
    {
        // Ids the file carries are kept (a rerun then repeats them, and downstream deduplicates); others are made up.
        var sequence = _sequence++;
        var requestId = row.RequestId ?? $"{runId}-{sequence}";
        var entityId = row.EntityId ?? $"entity-{_random.Next(entities)}";
        var record = new FeatureRecord
        {
            RequestId = requestId,
            EntityId = entityId,
            EventTime = Timestamp.FromDateTime(row.EventTime ?? sendTimeUtc),
            FeatureSet = featureSet,
        };
        record.Values.Add(row.Values);
        record.Names.Add(featureNames);
        var label = new Label
        {
            RequestId = requestId,
            EntityId = entityId,
            Value = row.Label,
        };
        foreach (var (name, value) in row.Outcomes ?? new Dictionary<string, double>())
        {
            label.Outcomes[name] = value;
        }

        return (record, label);
    }
}
