using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mesh.ServiceDefaults;

/// <summary>Runs a service and turns a bad configuration into one clear line and a non-zero exit code.</summary>
public static class ServiceRunner
{
    /// <summary>Exit code of a service that refused to start because of its configuration (EX_CONFIG).</summary>
    public const int ConfigurationErrorExitCode = 78;

    /// <summary>
    /// Runs the app until it stops. Returns <see cref="Environment.ExitCode"/> (non-zero after a fatal error),
    /// or <see cref="ConfigurationErrorExitCode"/> with the failed settings, one line on standard error, when a
    /// setting is missing, malformed or of the wrong type.
    /// </summary>
    public static int RunService(this WebApplication app)
    {
        // Taken now: a host that failed to start (a hosted service's refusal) is disposed before the catch runs,
        // and its configuration with it.
        var configuration = app.Configuration;
        try
        {
            // Validated before the host starts, so a refusal is our one line and not also the host's
            // "failed to start" record with its stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            app.Run();
            return Environment.ExitCode;
        }
        catch (Exception e) when (ConfigurationErrorText.Describe(e, configuration) is { } line)
        {
            Console.Error.WriteLine($"error: invalid configuration, the service did not start: {line}");
            return ConfigurationErrorExitCode;
        }
    }
}
