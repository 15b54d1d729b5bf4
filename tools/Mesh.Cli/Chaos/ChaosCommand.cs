using System.CommandLine;
using System.Runtime.InteropServices;

namespace Mesh.Cli.Chaos;

/// <summary>The `mesh chaos` command line: options, their checks (exit 78 naming the option), and SIGTERM handling.</summary>
internal static class ChaosCommand
{
    public static Command Create()
    {
        var records = new Option<int>("--records") { Description = "Records the producer streams (with labels).", DefaultValueFactory = _ => 50_000 };
        var rate = new Option<int>("--rate") { Description = "Records per second.", DefaultValueFactory = _ => 500 };
        var killEvery = new Option<double>("--kill-every") { Description = "Seconds between two SIGKILLs of a random service.", DefaultValueFactory = _ => 5 };
        var maxKills = new Option<int?>("--max-kills") { Description = "Stop killing after this many kills (default: kill until the producer is done)." };
        var duration = new Option<double>("--duration") { Description = "Upper bound of the whole run in seconds; it stops on its own at the latest then.", DefaultValueFactory = _ => 900 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the victim choice and the producer (default: random, printed)." };
        var victims = new Option<string[]>("--kill") { Description = "Services the killer picks from (repeatable): model-host, router-a, router-b, metrics-sink.", DefaultValueFactory = _ => [.. ChaosStack.Names], AllowMultipleArgumentsPerToken = true };
        var configuration = new Option<string>("--configuration") { Description = "Build configuration of the services.", DefaultValueFactory = _ => "Release" };
        var state = new Option<string>("--state-dir") { Description = "Folder for models, logs and the sink's tracking files.", DefaultValueFactory = _ => Path.Combine(".mesh", "chaos") };
        var command = new Command("chaos", "Run the mesh on loopback while a random service is SIGKILLed and restarted every few seconds; check nothing was lost or counted twice.")
        {
            records, rate, killEvery, maxKills, duration, seed, victims, configuration, state,
        };
        command.SetAction(async (result, token) =>
        {
            var problem = Check(result.GetValue(records) > 0, "--records must be a positive number of records")
                ?? Check(result.GetValue(rate) > 0, "--rate must be a positive number of records per second")
                ?? Check(result.GetValue(killEvery) >= 0.5, "--kill-every must be at least 0.5 seconds")
                ?? Check(result.GetValue(maxKills) is null or >= 0, "--max-kills must not be negative")
                ?? Check(result.GetValue(duration) >= 10, "--duration must be at least 10 seconds")
                ?? Check(result.GetValue(victims)!.Length > 0 && result.GetValue(victims)!.All(ChaosStack.Names.Contains), $"--kill takes {string.Join(", ", ChaosStack.Names)}");
            if (problem is not null)
            {
                Console.Error.WriteLine($"error: {problem}.");
                return 78;
            }

            var settings = new ChaosSettings(
                result.GetValue(records),
                result.GetValue(rate),
                TimeSpan.FromSeconds(result.GetValue(killEvery)),
                result.GetValue(maxKills),
                TimeSpan.FromSeconds(result.GetValue(duration)),
                result.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                result.GetValue(configuration)!,
                Path.GetFullPath(result.GetValue(state)!),
                [.. result.GetValue(victims)!.Distinct()]);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                cts.Cancel();
            });
            return await ChaosRun.RunAsync(settings, cts.Token).ConfigureAwait(false);
        });
        return command;
    }

    private static string? Check(bool ok, string problem) => ok ? null : problem;
}
