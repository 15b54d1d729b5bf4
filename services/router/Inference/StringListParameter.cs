using System.Text.Json;
using Google.Protobuf.Collections;
using Inference;

namespace Mesh.Router.Inference;

/// <summary>A list of names in an Open Inference Protocol parameter: a string parameter holding a JSON array.</summary>
internal static class StringListParameter
{
    /// <summary>The names, or null when the parameter is absent, not a string or an empty array.</summary>
    /// <exception cref="InvalidDataException">The parameter is a string but not a JSON array of strings.</exception>
    public static string[]? Read(MapField<string, InferParameter>? parameters, string name, string where)
    {
        if (parameters is null || !parameters.TryGetValue(name, out var parameter) ||
            parameter.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.StringParam)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<string[]>(parameter.StringParam) is { Length: > 0 } names ? names : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: parameter '{name}' is not a JSON array of strings: {e.Message}", e);
        }
    }
}
