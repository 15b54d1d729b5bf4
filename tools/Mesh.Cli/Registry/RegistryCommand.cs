using System.CommandLine;
using System.Runtime.InteropServices;
using Mesh.EmbeddedSchemaRegistry;

namespace Mesh.Cli.Registry;

/// <summary>
/// `mesh registry`: runs the in-process Confluent-compatible schema registry (the stand-in the tests use) on 127.0.0.1
/// until SIGTERM or Ctrl-C, so a laptop can run the whole mesh framed: point every service at the printed URL with
/// <c>Kafka__SchemaRegistry__Url</c>. Schemas live in memory: a restart forgets them and the services register again.
/// </summary>
internal static class RegistryCommand
{
    public const string UrlVariable = "Kafka__SchemaRegistry__Url";

    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Listen on this 127.0.0.1 port, so services keep the address across a restart; 0: a port the system picks, printed.", DefaultValueFactory = _ => 0 };
        var command = new Command("registry", "Run a Confluent-compatible schema registry in memory on 127.0.0.1 (for laptops and benchmarks, not production) until Ctrl-C or SIGTERM.") { port };
        command.SetAction(async (result, token) =>
        {
            var value = result.GetValue(port);
            if (value is < 0 or > 65_535)
            {
                await Console.Error.WriteLineAsync($"error: --port must be 0 to 65535, got {value}.").ConfigureAwait(false);
                return 78;
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                cts.Cancel();
            });
            return await RunAsync(value, Console.Out, cts.Token).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> RunAsync(int port, TextWriter output, CancellationToken cancellationToken)
    {
        await using var registry = await StandInSchemaRegistry.StartAsync(port).ConfigureAwait(false);
        await output.WriteLineAsync($"{UrlVariable}={registry.Url}").ConfigureAwait(false);
        await output.WriteLineAsync($"Schema registry (Confluent's REST API, in memory, no authentication) up at {registry.Url}. " +
            $"Start the services with {UrlVariable} set to it to frame every mesh topic. Stop with Ctrl-C or SIGTERM.").ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await output.WriteLineAsync($"Schema registry stopped ({registry.Store.Subjects().Count} subject(s) forgotten).").ConfigureAwait(false);
        return 0;
    }
}
