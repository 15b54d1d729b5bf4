namespace Mesh.Cli.Tests;

public sealed class DemoDriftTests
{
    [Fact]
    public void Print_FlaggedFeatureAndAnArmWithNoWindowMeasuredYet_NamesTheFeatureAndLeavesTheOtherBlank()
    {
        var summary = new DemoSummary
        {
            Drift =
            [
                new ArmDrift
                {
                    Experiment = "iris-ab", Arm = "logreg", Reference = "first-records",
                    Features =
                    [
                        new FeatureDrift { Feature = "sepal_width", History = [0.02, 3.4, null], AlertHistory = [false, true, false] },
                        new FeatureDrift { Feature = "petal_width", History = [0.01, 0.05, null], AlertHistory = [false, false, false] },
                    ],
                },
                // A run shorter than a window: the arm is known, nothing is measured.
                new ArmDrift { Experiment = "iris-bandit", Arm = "boosted", Reference = "collecting", Features = [new FeatureDrift { Feature = "sepal_width", History = [null], AlertHistory = [false] }] },
            ],
        };

        var console = new TestConsole().Width(200);
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = console;
        try
        {
            DemoDrift.Print(summary);
        }
        finally
        {
            AnsiConsole.Console = previous;
        }

        var rows = console.Lines.Select(l => string.Join(' ', l.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("iris-ab logreg first-records sepal_width (1 of 3) 3.40 (sepal_width)", rows);
        Assert.Contains("iris-bandit boosted collecting none", rows);
    }
}
