using Microsoft.Extensions.Options;

namespace Mesh.Producer.Options;

/// <summary>Checks what data annotations cannot: that the CSV file exists, named with its resolved path.</summary>
internal sealed class ProducerOptionsValidator : IValidateOptions<ProducerOptions>
{
    public ValidateOptionsResult Validate(string? name, ProducerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.File))
        {
            // The data annotation reports the missing value; one message is enough.
            return ValidateOptionsResult.Skip;
        }

        var path = options.ResolveFile();
        return File.Exists(path)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Producer:File: '{options.File}' does not exist (resolved to '{path}' from the current directory '{Directory.GetCurrentDirectory()}').");
    }
}
