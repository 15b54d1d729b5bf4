namespace Mesh.Producer.Tests;

public sealed class ProducerIntegrationTests(KafkaTestCluster cluster) : IClassFixture<KafkaTestCluster>
{
    [Fact]
    public async Task Run_CountOfRecords_ReaderGetsEveryRecordAndItsLabel()
    {
        const int Count = 60;
        var (features, labels) = await cluster.CreateFreshTopicsAsync(4, "features", "labels");
        // 60 records cycle over the 150 iris rows' first 60 plus one bad row, which is skipped.
        var csv = Path.Combine(Path.GetTempPath(), $"producer-{Guid.NewGuid():N}.csv");
        var lines = File.ReadAllLines(RepoPaths.IrisCsv).ToList();
        lines.Insert(3, "1.0,oops,1.0,1.0,setosa");
        await File.WriteAllLinesAsync(csv, lines);

        await using var app = ProducerApp.Create([], Overrides(features, labels, csv, Count));
        await app.StartAsync();
        var summary = await app.Services.GetRequiredService<PublishProgress>().Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(summary.Succeeded, summary.ToString());
        Assert.Equal(Count, summary.RecordsAcked);
        Assert.Equal(Count, summary.LabelsAcked);
        Assert.Equal(1, summary.BadRows);

        var records = cluster.ReadAll(features, Count, TimeSpan.FromSeconds(30)).Select(r => FeatureRecord.Parser.ParseFrom(r.Message.Value)).ToList();
        var labelRecords = cluster.ReadAll(labels, Count, TimeSpan.FromSeconds(30)).Select(r => Label.Parser.ParseFrom(r.Message.Value)).ToList();
        Assert.Equal(Count, records.Count);
        Assert.Equal(Count, labelRecords.Count);
        Assert.Equal(Count, records.Select(r => r.RequestId).Distinct().Count());
        var labelById = labelRecords.ToDictionary(l => l.RequestId);
        var irisRows = File.ReadAllLines(RepoPaths.IrisCsv).Skip(1).Select(l => l.Split(',')).ToList();
        foreach (var record in records)
        {
            var n = int.Parse(record.RequestId[(record.RequestId.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(irisRows[n % irisRows.Count][4], labelById[record.RequestId].Value);
            Assert.Equal(record.EntityId, labelById[record.RequestId].EntityId);
            Assert.Equal(4, record.Values.Count);
        }
    }

    [Fact]
    public async Task Start_MissingFile_FailsNamingProducerFile()
    {
        var overrides = new Dictionary<string, string?>(Overrides("f", "l", "", 1)) { ["Producer:File"] = "/nonexistent/iris.csv" };
        await using var app = ProducerApp.Create([], overrides);

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Producer:File", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SyntheticRampWithRandomLabelDelays_PublishesEveryRecordAndLabel()
    {
        const int Count = 80;
        var (features, labels) = await cluster.CreateFreshTopicsAsync(2, "features", "labels");
        var overrides = Overrides(features, labels, "", Count);
        overrides.Remove("Producer:File");
        overrides["Producer:Format"] = "synthetic";
        overrides["Producer:Profile"] = "ramp";
        overrides["Producer:Rate"] = "200";
        overrides["Producer:PeakRate"] = "2000";
        overrides["Producer:RampSeconds"] = "1";
        overrides["Producer:LabelDelayJitterMs"] = "300";
        overrides["Producer:ProgressBar"] = "off";

        await using var app = ProducerApp.Create([], overrides);
        await app.StartAsync();
        var summary = await app.Services.GetRequiredService<PublishProgress>().Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(summary.Succeeded, summary.ToString());
        Assert.Equal(Count, summary.LabelsAcked);
        var records = cluster.ReadAll(features, Count, TimeSpan.FromSeconds(30)).Select(r => FeatureRecord.Parser.ParseFrom(r.Message.Value)).ToList();
        var labelValues = cluster.ReadAll(labels, Count, TimeSpan.FromSeconds(30)).Select(r => Label.Parser.ParseFrom(r.Message.Value)).ToList();
        Assert.Equal(Count, records.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(records.Select(r => r.RequestId).Order(), labelValues.Select(l => l.RequestId).Order());
        Assert.All(records, r => Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], r.Names));
    }

    [Fact]
    public async Task Run_BadRowWithOnBadRowStop_SendsNothingAndFailsNamingFileAndLine()
    {
        var features = KafkaTestCluster.UniqueTopic("features");
        var labels = KafkaTestCluster.UniqueTopic("labels");
        var csv = Path.Combine(Path.GetTempPath(), $"producer-{Guid.NewGuid():N}.csv");
        await File.WriteAllLinesAsync(csv, ["a,b,species", "1,2,x", "1,,x"]);
        var overrides = Overrides(features, labels, csv, 2);
        overrides["Producer:OnBadRow"] = "stop";

        await using var app = ProducerApp.Create([], overrides);
        await app.StartAsync();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => app.Services.GetRequiredService<PublishProgress>().Completion.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.StartsWith($"{csv}:3: missing value for feature 'b'", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.Services.GetRequiredService<PublishProgress>().RecordsSent);
        File.Delete(csv);
    }

    [Fact]
    public async Task Start_UnknownFormatAndIncompleteRamp_FailsNamingEachSetting()
    {
        var overrides = Overrides("f", "l", RepoPaths.IrisCsv, 1);
        overrides["Producer:Format"] = "xlsx";
        overrides["Producer:Profile"] = "ramp";
        await using var app = ProducerApp.Create([], overrides);

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Producer:Format 'xlsx'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Producer:PeakRate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MalformedRate_FailsNamingProducerRate()
    {
        var overrides = new Dictionary<string, string?>(Overrides("f", "l", RepoPaths.IrisCsv, 1)) { ["Producer:Rate"] = "-5" };
        await using var app = ProducerApp.Create([], overrides);

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Producer:Rate", e.Message, StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Overrides(string features, string labels, string csv, int count) => Overrides(cluster, features, labels, csv, count);

    /// <summary>The producer on the test broker, publishing <paramref name="count"/> records of <paramref name="csv"/> at 500/s.</summary>
    internal static Dictionary<string, string?> Overrides(KafkaTestCluster cluster, string features, string labels, string csv, int count) => new()
    {
        ["Urls"] = "http://127.0.0.1:0",
        [$"{KafkaOptions.SectionName}:BootstrapServers"] = cluster.BootstrapServers,
        ["Kafka:Topics:Features"] = features,
        ["Kafka:Topics:Labels"] = labels,
        ["Producer:File"] = csv,
        ["Producer:Rate"] = "500",
        ["Producer:Count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Producer:LabelDelayMs"] = "100",
        ["Producer:Entities"] = "10",
    };
}
