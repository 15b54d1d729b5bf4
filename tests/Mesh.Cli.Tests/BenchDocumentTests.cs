namespace Mesh.Cli.Tests;

/// <summary>
/// Each benchmark owns one section of docs/benchmarks.md: regenerating one must keep the other's tables, and the
/// mesh benchmark's tables carry the tail (p99.9, max) and say when the machine was busy.
/// </summary>
public sealed class BenchDocumentTests
{
    private const string Page = """
        # Benchmarks

        ## The mesh against the fused baseline

        an old table

        ## Model host

        the model host's table, kept

        ### a model
        its rows
        """;

    [Fact]
    public void Document_PageWithBothSections_ReplacesTheMeshSectionAndKeepsTheModelHostOne()
    {
        var report = Report(busy: false);

        var page = BenchReportFormatter.Document(report, BenchReportFormatter.Markdown(report), Page);

        Assert.DoesNotContain("an old table", page, StringComparison.Ordinal);
        Assert.Contains("the model host's table, kept\n\n### a model\nits rows", page, StringComparison.Ordinal);
        Assert.True(page.IndexOf(BenchReportFormatter.SectionHeading, StringComparison.Ordinal) < page.IndexOf(ModelHostBenchFormatter.SectionHeading, StringComparison.Ordinal));
        Assert.Equal(1, CountOf(page, BenchReportFormatter.SectionHeading));
        Assert.Contains("| mesh | 1,000 | 2.00 | 3.00 | 4.00 | 5.00 | 9.00 |", page, StringComparison.Ordinal);
    }

    [Fact]
    public void ReplaceSection_ModelHostBenchOnTheSamePage_KeepsTheMeshSection()
    {
        var page = ModelHostBenchFormatter.ReplaceSection(Page, "## Model host\n\nnew model host table\n");

        Assert.Contains("an old table", page, StringComparison.Ordinal);
        Assert.Contains("new model host table", page, StringComparison.Ordinal);
        Assert.DoesNotContain("its rows", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_BusyMachine_SaysSoAboveTheTables()
    {
        Assert.Contains("The machine was busy", BenchReportFormatter.Markdown(Report(busy: true)), StringComparison.Ordinal);
        Assert.DoesNotContain("The machine was busy", BenchReportFormatter.Markdown(Report(busy: false)), StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_FramedScenarioBesideThePlainOne_SaysEachOnesWireFormatAndTheRegistry()
    {
        var plain = Report(busy: false);
        var framed = plain.Scenarios[0] with { Name = "mesh-framed", WireFormat = BenchWireFormat.ConfluentName };
        var report = plain with { Scenarios = [plain.Scenarios[0], framed], SchemaRegistry = "local (the in-memory stand-in)" };

        var markdown = BenchReportFormatter.Markdown(report);

        Assert.Contains("| mesh | plain protobuf | 50,000", markdown, StringComparison.Ordinal);
        Assert.Contains("| mesh-framed | Confluent (magic byte, schema id, message index) | 50,000", markdown, StringComparison.Ordinal);
        Assert.Contains("Schema registry of the framed scenarios: local (the in-memory stand-in).", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Schema registry", BenchReportFormatter.Markdown(plain), StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_RunsOnAMachineWhoseSpeedChanged_SaysSoAndShowsEachRunsSpeed()
    {
        var plain = Report(busy: false);
        var mesh = plain.Scenarios[0];
        var fast = mesh.Runs[0] with { Speed = new SpeedSample(1_000, 1_100, 32) };
        var slow = mesh.Runs[0] with { Run = 2, Saturation = mesh.Runs[0].Saturation with { RecordsPerSecond = 20_000 }, Speed = new SpeedSample(1_500, 2_000, 30) };
        var report = plain with { Scenarios = [mesh with { Runs = [fast, slow] }] };

        var markdown = BenchReportFormatter.Markdown(report);

        Assert.Contains("The machine's speed changed during the benchmark", markdown, StringComparison.Ordinal);
        Assert.Contains("took 1,000–1,500 µs of CPU from one run to another (1.5×)", markdown, StringComparison.Ordinal);
        Assert.Contains("| mesh | 1 | 50,000 | 0.010 | 1,000 / 1,100 | 100 % |", markdown, StringComparison.Ordinal);
        Assert.Contains("| mesh | 2 | 20,000 | 0.010 | 1,500 / 2,000 | 67 % |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_RunsOfOneSpeed_ShowTheSpeedTableWithoutTheWarning()
    {
        var plain = Report(busy: false);
        var run = plain.Scenarios[0].Runs[0];
        var report = plain with { Scenarios = [plain.Scenarios[0] with { Runs = [run with { Speed = new SpeedSample(1_000, 1_050, 32) }, run with { Run = 2, Speed = new SpeedSample(1_100, 1_200, 32) }] }] };

        var markdown = BenchReportFormatter.Markdown(report);

        Assert.DoesNotContain("speed changed", markdown, StringComparison.Ordinal);
        Assert.Contains("| mesh | 2 | 50,000 | 0.010 | 1,100 / 1,200 | 91 % |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("machine speed |", BenchReportFormatter.Markdown(plain), StringComparison.Ordinal);
    }

    private static BenchReport Report(bool busy)
    {
        var saturation = new LoadResult(100, 100, 0, 50_000, 0.002, 1, 2, 3, 4, 5);
        var load = new LoadResult(100, 100, 0, 1_000, 0.1, 2, 3, 4, 5, 9);
        var run = new RunResult(1, saturation, [new LoadPoint(1_000, false, load)], 0.01, 0.008, new Dictionary<string, double> { ["router"] = 0.005 });
        return new BenchReport(DateTimeOffset.UnixEpoch, "2 cores", "embedded", "mesh bench", "0.10 / 0.20 / 0.30", "1.50 / 0.50 / 0.40", busy,
            [new ScenarioResult("mesh", "the mesh", 100, [run], new Dictionary<string, double> { ["router"] = 100 })]);
    }

    private static int CountOf(string text, string part) => text.Split(part).Length - 1;
}
