using System.CommandLine;
using Mesh.Cli;

var root = new RootCommand("mesh: the Mesh command line (embedded broker, demo models, demo).");
root.Subcommands.Add(Commands.Broker());
root.Subcommands.Add(Commands.Train());
root.Subcommands.Add(Commands.Demo());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
