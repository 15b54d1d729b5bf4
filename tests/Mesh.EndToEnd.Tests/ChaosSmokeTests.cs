namespace Mesh.EndToEnd.Tests;

/// <summary>`mesh chaos` run small, as a user would: it stops on its own and says whether anything was lost or counted twice.</summary>
public sealed class ChaosSmokeTests
{
    [Fact]
    public async Task Chaos_SmallRunKillingRoutersAndTheSink_EveryRecordPredictedAndCountedOnce()
    {
        var state = Directory.CreateTempSubdirectory("mesh-chaos-").FullName;
        try
        {
            // The model host is left out to keep this run short: while the only host restarts, the routers hold their
            // batches until it is back (see the README), a pause of seconds. The default `mesh chaos` run kills it too.
            var (exitCode, output) = await MeshCommand.RunAsync(
                TimeSpan.FromMinutes(5),
                "chaos", "--records", "3000", "--rate", "300", "--kill-every", "3", "--max-kills", "3", "--duration", "120",
                "--seed", "2", "--kill", "router-a", "router-b", "metrics-sink", "--state-dir", state);

            Assert.True(exitCode == 0, output);
            Assert.Matches(@"\| SIGKILLs total\s+\|\s+3 \|", output);
            Assert.Matches(@"\| lost records \(neither predicted nor dead-lettered\)\s+\|\s+0 \|", output);
            Assert.Matches(@"\| sink: pairs joined\s+\|\s+3,000 \|", output);
            Assert.Contains("PASS: all 3,000 records predicted", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Chaos_BadOption_Exits78NamingIt()
    {
        await MeshCommand.AssertExitsSayingAsync(TimeSpan.FromMinutes(1), 78, "--kill takes model-host, router-a, router-b, metrics-sink", "chaos", "--kill", "broker");
    }
}
