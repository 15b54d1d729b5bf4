using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Kafka;

/// <summary>
/// Ends the process with a non-zero exit code so the orchestrator restarts it. A service never keeps a
/// live-looking process around a dead consume loop.
/// </summary>
public static class FatalError
{
    /// <summary>The exit code of a service stopped by a fatal error.</summary>
    public const int ExitCode = 70;

    /// <summary>The exit code of a service that cannot start with its configuration (EX_CONFIG).</summary>
    public const int ConfigurationExitCode = 78;

    public static void Stop(IHostApplicationLifetime lifetime, ILogger logger, string reason, Exception? exception = null)
    {
        logger.LogCritical(exception, "Stopping: {Reason}", reason);
        Environment.ExitCode = ExitCode;
        lifetime.StopApplication();
    }
}
