namespace Mesh.Producer.Tests;

public sealed class SourceReaderTests : IDisposable
{
    private static readonly ColumnMapping s_mapped = new("species", "customer", "id", "at", ["petal_length", "petal_width"]);

    private readonly string _dir = Directory.CreateTempSubdirectory("producer-sources-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Csv_MappedColumns_TakesIdsTimeAndOnlyTheNamedFeaturesInOrder()
    {
        var table = CsvFeatureReader.Parse("t.csv", ["id,customer,at,sepal_length,petal_width,petal_length,species", "r1,c9,2026-05-01T10:00:00Z,5.1,0.2,1.4,setosa"], s_mapped);

        Assert.Equal(["petal_length", "petal_width"], table.FeatureNames);
        var row = Assert.Single(table.Rows);
        Assert.Equal([1.4f, 0.2f], row.Values);
        Assert.Equal("r1", row.RequestId);
        Assert.Equal("c9", row.EntityId);
        Assert.Equal(new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc), row.EventTime);
        Assert.Equal(DateTimeKind.Utc, row.EventTime!.Value.Kind);
    }

    [Fact]
    public void Csv_MappingNamesAColumnTheFileLacks_StopsNamingTheSettingAndColumns()
    {
        var mapping = ColumnMapping.LabelOnly("species") with { EntityId = "customer_id" };

        var e = Assert.Throws<InvalidDataException>(() => CsvFeatureReader.Parse("data/x.csv", ["a,b,species", "1,2,x"], mapping));

        Assert.StartsWith("data/x.csv:1: column 'customer_id' (Producer:Columns:EntityId) is not in the file; columns: a, b, species", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_BadEventTime_SkipsTheRowWithItsLine()
    {
        var table = CsvFeatureReader.Parse("t.csv", ["id,customer,at,petal_length,petal_width,species", "r1,c,yesterday,1,2,x", "r2,c,2026-01-01,1,2,x"], s_mapped);

        var error = Assert.Single(table.Errors);
        Assert.Equal("t.csv:2: event time 'at' is not a date and time: 'yesterday'", error.ToString());
        Assert.Equal("r2", Assert.Single(table.Rows).RequestId);
    }

    [Fact]
    public void JsonLines_GoodAndBadLines_ReadsValuesAndReportsEachBadLine()
    {
        var table = JsonLinesFeatureReader.Parse("f.jsonl",
        [
            """{"sepal_length": 5.1, "sepal_width": 3.5, "species": "setosa"}""",
            """{"sepal_length": "6.3", "sepal_width": 3.3, "species": "virginica"}""",
            """{"sepal_length": 5.0, "species": "setosa"}""",
            """not json""",
            """{"sepal_length": [1], "sepal_width": 3.3, "species": "x"}""",
            """{"sepal_length": 4.9, "sepal_width": "abc", "species": "setosa"}""",
        ], ColumnMapping.LabelOnly("species"));

        Assert.Equal(["sepal_length", "sepal_width"], table.FeatureNames);
        Assert.Equal([[5.1f, 3.5f], [6.3f, 3.3f]], table.Rows.Select(r => r.Values));
        Assert.Equal([3, 4, 5, 6], table.Errors.Select(e => e.LineNumber));
        Assert.Contains("missing value for feature 'sepal_width'", table.Errors[0].Reason, StringComparison.Ordinal);
        Assert.StartsWith("not JSON", table.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("'sepal_length' is array", table.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("not a number: 'abc'", table.Errors[3].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_File_ReadsRowsWithMappedIds()
    {
        var path = Path.Combine(_dir, "f.parquet");
        var rows = new[]
        {
            new ParquetRow { Id = "a", Customer = "c1", PetalLength = 1.5, PetalWidth = 0.2f, Species = "setosa" },
            new ParquetRow { Id = "b", Customer = "c2", PetalLength = 5.5, PetalWidth = 2.1f, Species = "virginica" },
        };
        await using (var stream = File.Create(path))
        {
            await ParquetSerializer.SerializeAsync(rows, stream);
        }

        var table = ParquetFeatureReader.Read(path, s_mapped with { EventTime = null });

        Assert.Equal(["petal_length", "petal_width"], table.FeatureNames);
        Assert.Equal(["a", "b"], table.Rows.Select(r => r.RequestId));
        Assert.Equal(["c1", "c2"], table.Rows.Select(r => r.EntityId));
        Assert.Equal([5.5f, 2.1f], table.Rows[1].Values);
        Assert.Equal("virginica", table.Rows[1].Label);
        Assert.Empty(table.Errors);
    }

    [Fact]
    public void Synthetic_SameSeed_SameRowsOfThreeSpecies()
    {
        var one = SyntheticFeatureSource.Generate(300, seed: 5);
        var two = SyntheticFeatureSource.Generate(300, seed: 5);

        Assert.Equal(300, one.Rows.Count);
        Assert.Equal(one.Rows.Select(r => string.Join(',', r.Values)), two.Rows.Select(r => string.Join(',', r.Values)));
        Assert.Equal(["setosa", "versicolor", "virginica"], one.Rows.Select(r => r.Label).Distinct().Order());
        // Setosa's petals are short, virginica's long: the classes stay separable, like the real data.
        Assert.True(one.Rows.Where(r => r.Label == "setosa").Average(r => r.Values[2]) < 2);
        Assert.True(one.Rows.Where(r => r.Label == "virginica").Average(r => r.Values[2]) > 5);
    }

    private sealed class ParquetRow
    {
        [System.Text.Json.Serialization.JsonPropertyName("id")]
        public string Id { get; set; } = "";

        [System.Text.Json.Serialization.JsonPropertyName("customer")]
        public string Customer { get; set; } = "";

        [System.Text.Json.Serialization.JsonPropertyName("petal_length")]
        public double PetalLength { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("petal_width")]
        public float PetalWidth { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("species")]
        public string Species { get; set; } = "";
    }
}
