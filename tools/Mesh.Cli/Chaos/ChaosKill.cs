namespace Mesh.Cli.Chaos;

/// <summary>One SIGKILL of the run: when (UTC, the clock the routers stamp predictions with) and which service.</summary>
internal sealed record ChaosKill(DateTime At, string Service);
