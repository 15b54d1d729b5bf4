namespace Mesh.Cli.Tests;

/// <summary>The demo recognises a start that failed on a taken port, from the logs the AppHost writes.</summary>
public sealed class PortConflictTests : IDisposable
{
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("mesh-port-conflict-");

    [Fact]
    public void Find_KestrelCouldNotBindInAServiceLog_NamesTheServiceAndTheLine()
    {
        var logs = Directory.CreateDirectory(Path.Combine(_run.FullName, "logs"));
        File.WriteAllText(Path.Combine(_run.FullName, "apphost.log"), "info: Aspire.Hosting.DistributedApplication[0]\n      Distributed application started.\n");
        File.WriteAllText(Path.Combine(logs.FullName, "router.log"), "info: Mesh.Router[0] starting\n");
        File.WriteAllText(Path.Combine(logs.FullName, "consumer.log"),
            "crit: Microsoft.AspNetCore.Server.Kestrel[0]\n" +
            "      Unable to start Kestrel.\n" +
            "System.IO.IOException: Failed to bind to address http://127.0.0.1:40123: address already in use.\n");

        var found = PortConflict.Find(PortConflict.RunLogs(_run.FullName));

        Assert.Equal("consumer.log: System.IO.IOException: Failed to bind to address http://127.0.0.1:40123: address already in use.", found);
    }

    [Fact]
    public void Find_LogsOfAStartThatBoundEveryPort_FindsNothing()
    {
        var logs = Directory.CreateDirectory(Path.Combine(_run.FullName, "logs"));
        File.WriteAllText(Path.Combine(_run.FullName, "apphost.log"), "Distributed application started.\n");
        File.WriteAllText(Path.Combine(logs.FullName, "router.log"), "Now listening on: http://127.0.0.1:40124\n");

        Assert.Null(PortConflict.Find(PortConflict.RunLogs(_run.FullName)));
    }

    [Fact]
    public void Find_RunFolderWithoutLogsYet_FindsNothing()
    {
        Assert.Null(PortConflict.Find(PortConflict.RunLogs(_run.FullName)));
    }

    public void Dispose() => _run.Delete(recursive: true);
}
