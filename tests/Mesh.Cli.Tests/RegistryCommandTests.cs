namespace Mesh.Cli.Tests;

/// <summary><c>mesh registry</c>: the in-memory registry a laptop's services are pointed at, through Confluent's real client.</summary>
public sealed class RegistryCommandTests
{
    [Fact]
    public async Task RunAsync_UntilCancelled_PrintsItsUrlAndTakesTheMeshSchemas()
    {
        var output = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = RegistryCommand.RunAsync(0, TextWriter.Synchronized(output), stop.Token);

        var url = await UrlAsync(output, run);
        using (var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = url }))
        {
            var registered = await SchemaContractCheck.RunAsync(client, MeshSchemaCatalog.For(new MeshTopics()), SubjectNameStrategy.Topic, register: true, new StringWriter(), CancellationToken.None);
            Assert.Equal(0, registered);
            Assert.Contains("mesh.features.v1-value", await client.GetAllSubjectsAsync());
        }

        await stop.CancelAsync();
        Assert.Equal(0, await run);
        Assert.Contains("Schema registry stopped", output.ToString(), StringComparison.Ordinal);
    }

    // The URL line is printed once the registry listens; waiting for it is set-up, not an assertion on time.
    private static async Task<string> UrlAsync(StringWriter output, Task<int> run)
    {
        var prefix = RegistryCommand.UrlVariable + "=";
        for (var attempt = 0; attempt < 1_500 && !run.IsCompleted; attempt++)
        {
            if (output.ToString().Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
            {
                return line[prefix.Length..].Trim();
            }

            await Task.Delay(20);
        }

        throw new InvalidOperationException($"mesh registry printed no URL (exited: {run.IsCompleted}):\n{output}");
    }
}
