namespace Mesh.Cli.Chaos;

/// <summary>What `mesh chaos` runs: how many records, how fast, how often a service is killed, and the bounds.</summary>
internal sealed record ChaosSettings(
    int Records,
    int Rate,
    TimeSpan KillEvery,
    int? MaxKills,
    TimeSpan Duration,
    int Seed,
    string Configuration,
    string StateDir,
    IReadOnlyList<string> Victims);
