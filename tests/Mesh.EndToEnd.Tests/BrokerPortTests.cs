namespace Mesh.EndToEnd.Tests;

/// <summary>`mesh broker --port`: the embedded broker at a fixed address, the same after a restart.</summary>
public sealed class BrokerPortTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Broker_FixedPort_PublishesAndServesTheSameAddressAcrossARestart()
    {
        // The first run binds a port the system picks (--port 0); the restart is told that port.
        var port = 0;
        var file = Path.Combine(Path.GetTempPath(), $"mesh-bootstrap-{Guid.NewGuid():N}");
        try
        {
            for (var run = 0; run < 2; run++)
            {
                using var broker = StartBroker(port, file);
                try
                {
                    var address = await WaitForFileAsync(file, broker);
                    if (run == 0)
                    {
                        port = int.Parse(address[(address.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                        Assert.NotEqual(0, port);
                    }

                    Assert.Equal($"127.0.0.1:{port}", address);

                    using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = address }).Build();
                    var metadata = admin.GetMetadata(TimeSpan.FromSeconds(20));
                    Assert.Equal(port, Assert.Single(metadata.Brokers).Port);

                    Assert.Equal(0, ServiceProcess.Signal(broker.Id, 15));
                    using var stopped = new CancellationTokenSource(s_patience);
                    await broker.WaitForExitAsync(stopped.Token);
                    Assert.Equal(0, broker.ExitCode);
                }
                finally
                {
                    if (!broker.HasExited)
                    {
                        broker.Kill();
                    }
                }
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Process StartBroker(int port, string file)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(Repository.Root, "tools", "Mesh.Cli", "bin", Repository.Configuration, "net10.0", "mesh.dll"));
        foreach (var argument in new[] { "broker", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bootstrap-file", file, "--watch-group", "none" })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<string> WaitForFileAsync(string file, Process broker)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (DateTime.UtcNow < deadline && !broker.HasExited)
        {
            if (File.Exists(file) && (await File.ReadAllTextAsync(file)).Trim() is { Length: > 0 } address)
            {
                return address;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"mesh broker wrote no address to {file}");
    }
}
