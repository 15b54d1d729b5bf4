using Microsoft.Extensions.Options;

namespace Mesh.Kafka.SchemaRegistry;

/// <summary>Refuses settings <see cref="SchemaRegistryOptions.Validate"/> finds wrong, with its message naming the setting.</summary>
internal sealed class SchemaRegistryOptionsValidator : IValidateOptions<SchemaRegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, SchemaRegistryOptions options) =>
        options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
