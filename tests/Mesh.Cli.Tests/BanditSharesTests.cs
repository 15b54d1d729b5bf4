namespace Mesh.Cli.Tests;

public sealed class BanditSharesTests
{
    [Fact]
    public void Print_CountsGrowingUnevenly_ShowsEachArmsShareOfEachQuarter()
    {
        var shares = new BanditShares();
        // Cumulative counts as the demo polls them: the first 100 records split evenly, then logreg takes 3 in 4, then 9 in 10.
        foreach (var (a, b) in new[] { (0L, 0L), (50L, 50L), (75L, 125L), (100L, 200L), (110L, 290L) })
        {
            shares.Observe(Summary(a, b));
        }

        var console = new TestConsole().Width(200);
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = console;
        try
        {
            shares.Print();
        }
        finally
        {
            AnsiConsole.Console = previous;
        }

        var rows = console.Lines.Where(l => l.Contains('%')).Select(l => string.Join(' ', l.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Equal(["1–100 50 % 50 %", "101–200 25 % 75 %", "201–300 25 % 75 %", "301–400 10 % 90 %"], rows);
    }

    private static DemoSummary Summary(long boosted, long logreg) => new()
    {
        Experiments =
        [
            new ExperimentSummary { Experiment = "iris-ab", Arms = [new ArmSummary { Arm = "logreg", Predictions = 999 }] },
            new ExperimentSummary
            {
                Experiment = BanditShares.Experiment,
                Arms =
                [
                    new ArmSummary { Arm = "boosted", Predictions = boosted },
                    new ArmSummary { Arm = "logreg", Predictions = logreg },
                    new ArmSummary { Arm = "shadow", Shadow = true, Predictions = 5 },
                ],
            },
        ],
    };
}
