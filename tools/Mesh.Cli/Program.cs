using System.CommandLine;
using Mesh.Cli;

var root = new RootCommand("mesh: the Mesh command line (embedded broker, demo models, demo, benchmark).");
root.Subcommands.Add(Commands.Broker());
root.Subcommands.Add(Mesh.Cli.Registry.RegistryCommand.Create());
root.Subcommands.Add(Commands.Train());
root.Subcommands.Add(Commands.Demo());
root.Subcommands.Add(Commands.Bench());
root.Subcommands.Add(ModelHostBenchCommands.Create());
root.Subcommands.Add(ReplayCommands.DeadLetters());
root.Subcommands.Add(ReplayCommands.EvaluatePolicy());
root.Subcommands.Add(Mesh.Cli.Schemas.SchemasCommand.Create());
root.Subcommands.Add(Mesh.Cli.Promote.PromoteCommand.Create());
root.Subcommands.Add(Mesh.Cli.Chaos.ChaosCommand.Create());
// On Ctrl-C, give a command time to stop what it started (the demo stops the whole stack) instead of the default 2 s.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) };
return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
