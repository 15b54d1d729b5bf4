using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace Mesh.ServiceDefaults;

/// <summary>Runs a service and turns a bad configuration into one clear line and a non-zero exit code.</summary>
public static class ServiceRunner
{
    /// <summary>Exit code of a service that refused to start because of its configuration.</summary>
    public const int ConfigurationErrorExitCode = 78;

    /// <summary>
    /// Runs the app until it stops. Returns <see cref="Environment.ExitCode"/> (non-zero after a fatal error),
    /// or <see cref="ConfigurationErrorExitCode"/> with the failed settings on standard error when options
    /// validation refused to start it.
    /// </summary>
    public static int RunService(this WebApplication app)
    {
        try
        {
            app.Run();
            return Environment.ExitCode;
        }
        catch (OptionsValidationException e)
        {
            Console.Error.WriteLine($"error: invalid configuration, the service did not start: {string.Join(" ", e.Failures)}");
            return ConfigurationErrorExitCode;
        }
    }
}
