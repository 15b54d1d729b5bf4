namespace Mesh.Producer.Tests;

public sealed class RecordBuilderTests
{
    private static readonly string[] s_names = ["a", "b"];
    private static readonly DateTime s_now = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Build_ManyRecords_RequestIdsAreUniqueAndEntityIdsWithinRange()
    {
        var builder = new RecordBuilder("run1", "iris", s_names, entities: 7, seed: 1);
        var row = new FeatureRow(2, [1f, 2f], "setosa");

        var records = Enumerable.Range(0, 1000).Select(_ => builder.Build(row, s_now).Record).ToList();

        Assert.Equal(1000, records.Select(r => r.RequestId).Distinct().Count());
        Assert.All(records, r => Assert.StartsWith("run1-", r.RequestId, StringComparison.Ordinal));
        var entities = records.Select(r => r.EntityId).Distinct().ToList();
        Assert.All(entities, e => Assert.InRange(int.Parse(e["entity-".Length..], System.Globalization.CultureInfo.InvariantCulture), 0, 6));
        Assert.Equal(7, entities.Count);
    }

    [Fact]
    public void Build_Row_LabelMatchesRowAndRecord()
    {
        var builder = new RecordBuilder("r", "iris", s_names, entities: 10, seed: 1);

        var (record, label) = builder.Build(new FeatureRow(5, [4.5f, 0.25f], "virginica"), s_now);

        Assert.Equal(record.RequestId, label.RequestId);
        Assert.Equal(record.EntityId, label.EntityId);
        Assert.Equal("virginica", label.Value);
        Assert.Equal([4.5f, 0.25f], record.Values);
        Assert.Equal(s_names, record.Names);
        Assert.Equal("iris", record.FeatureSet);
        Assert.Equal(s_now, record.EventTime.ToDateTime());
    }

    [Fact]
    public void Build_SameSeed_SameEntitySequence()
    {
        var row = new FeatureRow(2, [1f, 2f], "x");
        var first = new RecordBuilder("a", "iris", s_names, 50, seed: 9);
        var second = new RecordBuilder("b", "iris", s_names, 50, seed: 9);

        var one = Enumerable.Range(0, 20).Select(_ => first.Build(row, s_now).Record.EntityId).ToList();
        var two = Enumerable.Range(0, 20).Select(_ => second.Build(row, s_now).Record.EntityId).ToList();

        Assert.Equal(one, two);
    }
}
