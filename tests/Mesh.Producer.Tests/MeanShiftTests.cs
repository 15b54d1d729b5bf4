namespace Mesh.Producer.Tests;

public sealed class MeanShiftTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public void Apply_FromRecordK_MovesOnlyThatFeatureByShiftStandardDeviations()
    {
        var table = SyntheticFeatureSource.Generate(1000, 7);
        var values = table.Rows.Select(r => (double)r.Values[2]).ToList();
        var mean = values.Average();
        var std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));

        var shift = MeanShift.For(new DriftInjectionOptions { Feature = "petal_length", AfterRecords = 10, Shift = 2 }, table)!;

        Assert.Equal(2 * std, shift.Delta, 4);
        var row = table.Rows[0];
        Assert.Same(row, shift.Apply(row, 9));
        var moved = shift.Apply(row, 10);
        Assert.Equal(row.Values[2] + shift.Delta, moved.Values[2], 5);
        Assert.Equal([row.Values[0], row.Values[1], row.Values[3]], [moved.Values[0], moved.Values[1], moved.Values[3]]);
        Assert.Equal(row.Label, moved.Label);
    }

    [Fact]
    public void For_NoFeature_IsOff()
    {
        Assert.Null(MeanShift.For(new DriftInjectionOptions(), SyntheticFeatureSource.Generate(10, 1)));
    }

    [Fact]
    public void For_FeatureTheFileLacks_ThrowsNamingTheSetting()
    {
        var e = Assert.Throws<InvalidDataException>(() => MeanShift.For(new DriftInjectionOptions { Feature = "petal_size" }, SyntheticFeatureSource.Generate(10, 1)));

        Assert.Contains("Producer:Drift:Feature 'petal_size'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Producer:Drift:Feature", "petal_size", "Producer:Drift:Feature 'petal_size'")]
    [InlineData("Producer:Drift:Shift", "0", "Producer:Drift:Shift")]
    [InlineData("Producer:Drift:AfterRecords", "-1", "Producer:Drift:AfterRecords")]
    public async Task Start_BadDriftSetting_FailsNamingIt(string key, string value, string expected)
    {
        var overrides = Overrides("f", "l", 1);
        overrides[key] = value;
        await using var app = ProducerApp.Create([], overrides);

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DriftAfterRecords_PublishesTheShiftedFeatureFromThatRecordOn()
    {
        const int Count = 40;
        var (features, labels) = await cluster.CreateFreshTopicsAsync(1, "features", "labels");
        var overrides = Overrides(features, labels, Count);
        overrides["Producer:Drift:AfterRecords"] = "20";
        overrides["Producer:Drift:Shift"] = "3";
        await using var app = ProducerApp.Create([], overrides);
        await app.StartAsync();
        var summary = await app.Services.GetRequiredService<PublishProgress>().Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(summary.Succeeded, summary.ToString());
        var records = cluster.ReadAll(features, Count, TimeSpan.FromSeconds(30)).Select(r => FeatureRecord.Parser.ParseFrom(r.Message.Value))
            .OrderBy(r => int.Parse(r.RequestId[(r.RequestId.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var rows = SyntheticFeatureSource.Generate(1000, 42).Rows;
        var delta = MeanShift.For(new DriftInjectionOptions { Feature = "petal_length", Shift = 3 }, SyntheticFeatureSource.Generate(1000, 42))!.Delta;
        for (var n = 0; n < Count; n++)
        {
            Assert.Equal(rows[n].Values[2] + (n >= 20 ? delta : 0), records[n].Values[2], 5);
            Assert.Equal(rows[n].Values[0], records[n].Values[0]);
        }
    }

    private Dictionary<string, string?> Overrides(string features, string labels, int count)
    {
        var overrides = ProducerIntegrationTests.Overrides(cluster, features, labels, "", count);
        overrides["Producer:Format"] = "synthetic";
        overrides["Producer:PublishLabels"] = "false";
        overrides["Producer:ProgressBar"] = "off";
        overrides["Producer:Drift:Feature"] = "petal_length";
        return overrides;
    }
}
