namespace Mesh.Producer.Tests;

public sealed class CsvFeatureReaderTests
{
    private static readonly string[] s_header = ["sepal_length,sepal_width,petal_length,petal_width,species"];

    [Fact]
    public void Parse_GoodRows_ReturnsValuesNamesAndLabels()
    {
        var table = CsvFeatureReader.Parse("t.csv", [.. s_header, "5.1,3.5,1.4,0.2,setosa", "6.3, 3.3 ,6.0,2.5,virginica"], "species");

        Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], table.FeatureNames);
        Assert.Equal(2, table.Rows.Count);
        Assert.Empty(table.Errors);
        Assert.Equal([5.1f, 3.5f, 1.4f, 0.2f], table.Rows[0].Values);
        Assert.Equal("setosa", table.Rows[0].Label);
        Assert.Equal([6.3f, 3.3f, 6.0f, 2.5f], table.Rows[1].Values);
        Assert.Equal("virginica", table.Rows[1].Label);
        Assert.Equal(3, table.Rows[1].LineNumber);
    }

    [Fact]
    public void Parse_OutcomeColumns_CarriedOnTheLabelNotAsFeaturesAnEmptyCellLeftOut()
    {
        var mapping = ColumnMapping.LabelOnly("species") with { Outcomes = ["revenue", "clicked"] };

        var table = CsvFeatureReader.Parse("t.csv", ["a,revenue,b,species,clicked", "1,12.5,2,setosa,1", "3,,4,virginica,0", "5,lots,6,setosa,1"], mapping);

        Assert.Equal(["a", "b"], table.FeatureNames);
        Assert.Equal(2, table.Rows.Count);
        Assert.Equal(new Dictionary<string, double> { ["revenue"] = 12.5, ["clicked"] = 1 }, table.Rows[0].Outcomes);
        // An empty cell is no outcome (the sink counts it as missing), not a zero.
        Assert.Equal(new Dictionary<string, double> { ["clicked"] = 0 }, table.Rows[1].Outcomes);
        Assert.Contains("outcome 'revenue' is not a number: 'lots'", Assert.Single(table.Errors).ToString(), StringComparison.Ordinal);
        var (_, label) = new Mesh.Producer.Records.RecordBuilder("run", "iris", table.FeatureNames, 5, 1).Build(table.Rows[0], DateTime.UtcNow);
        Assert.Equal(12.5, label.Outcomes["revenue"]);
        Assert.Equal(1, label.Outcomes["clicked"]);
    }

    [Fact]
    public void Parse_LabelColumnInTheMiddle_ExcludesItFromFeatures()
    {
        var table = CsvFeatureReader.Parse("t.csv", ["a,kind,b", "1,x,2"], "kind");

        Assert.Equal(["a", "b"], table.FeatureNames);
        Assert.Equal([1f, 2f], table.Rows[0].Values);
        Assert.Equal("x", table.Rows[0].Label);
    }

    [Fact]
    public void Parse_NonNumericFeature_ReportsFileAndLineAndSkipsRow()
    {
        var table = CsvFeatureReader.Parse("data/x.csv", [.. s_header, "5.1,3.5,1.4,0.2,setosa", "5.0,abc,1.4,0.2,setosa", "4.9,3.0,1.4,0.2,setosa"], "species");

        Assert.Equal(2, table.Rows.Count);
        var error = Assert.Single(table.Errors);
        Assert.Equal(3, error.LineNumber);
        Assert.StartsWith("data/x.csv:3:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("sepal_width", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingFeatureOrWrongColumnCount_ReportsEachLine()
    {
        var table = CsvFeatureReader.Parse("t.csv", [.. s_header, "5.1,,1.4,0.2,setosa", "5.1,3.5,1.4,setosa", "", "5.1,3.5,1.4,0.2,setosa"], "species");

        Assert.Single(table.Rows);
        Assert.Equal([2, 3], table.Errors.Select(e => e.LineNumber));
        Assert.Equal(5, table.Rows[0].LineNumber);
    }

    [Fact]
    public void Parse_HeaderWithoutLabelColumn_ThrowsNamingTheSetting()
    {
        var e = Assert.Throws<InvalidDataException>(() => CsvFeatureReader.Parse("t.csv", ["a,b", "1,2"], "species"));

        Assert.Contains("Producer:LabelColumn", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_IrisFile_Returns150RowsOfThreeSpecies()
    {
        var table = CsvFeatureReader.Read(RepoPaths.IrisCsv, "species");

        Assert.Equal(150, table.Rows.Count);
        Assert.Empty(table.Errors);
        Assert.All(table.Rows, r => Assert.Equal(4, r.Values.Length));
        Assert.Equal(["setosa", "versicolor", "virginica"], table.Rows.Select(r => r.Label).Distinct().Order());
    }
}
