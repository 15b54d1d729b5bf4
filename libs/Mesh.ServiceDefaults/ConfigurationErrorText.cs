using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Mesh.ServiceDefaults;

/// <summary>
/// Turns the framework's configuration exceptions into <c>&lt;Section&gt;:&lt;Key&gt;: &lt;what was expected&gt;</c>,
/// the form an operator can act on without reading a stack trace or the framework's own wording.
/// </summary>
public static partial class ConfigurationErrorText
{
    /// <summary>The refusal, one line; null when <paramref name="exception"/> is not about configuration.</summary>
    public static string? Describe(Exception exception, IConfiguration configuration)
    {
        var lines = new List<string>();
        foreach (var e in Flatten(exception))
        {
            if (e is OptionsValidationException validation)
            {
                lines.AddRange(validation.Failures.Select(f => DescribeFailure(f, validation.OptionsType)));
            }
            else if (e is InvalidOperationException && BindingFailure().Match(e.Message) is { Success: true } match)
            {
                var path = match.Groups["path"].Value;
                var value = match.Groups["value"].Success ? match.Groups["value"].Value : configuration[path];
                lines.Add($"{path}: '{value}' is not {Expected(match.Groups["type"].Value)}");
            }
        }

        return lines.Count == 0 ? null : string.Join("; ", lines.Distinct(StringComparer.Ordinal));
    }

    /// <summary>
    /// One validation failure: the message as the options class wrote it when it already names its setting,
    /// else prefixed with the section (the class's <c>SectionName</c> constant) and the member.
    /// </summary>
    public static string DescribeFailure(string failure, Type optionsType)
    {
        var section = optionsType.GetField("SectionName", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() as string;
        if (DataAnnotationFailure().Match(failure) is not { Success: true } match)
        {
            return failure;
        }

        var error = match.Groups["error"].Value;
        var member = match.Groups["members"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (section is null || error.StartsWith(section + ":", StringComparison.Ordinal))
        {
            return error;
        }

        return member is null ? $"{section}: {error}" : $"{section}:{member.Replace('.', ':')}: {error}";
    }

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        if (exception is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
            {
                yield return inner;
            }

            yield break;
        }

        yield return exception;
        if (exception.InnerException is { } innerException)
        {
            foreach (var inner in Flatten(innerException))
            {
                yield return inner;
            }
        }
    }

    private static string Expected(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" or "System.Byte" or "System.UInt32" or "System.UInt64" => "a whole number",
        "System.Double" or "System.Single" or "System.Decimal" => "a number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a time span such as 00:00:05",
        "System.Uri" => "an absolute URI",
        _ => $"a valid {type}",
    };

    [GeneratedRegex(@"^Failed to convert configuration value (?:'(?<value>.*)' )?at '(?<path>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BindingFailure();

    [GeneratedRegex(@"^DataAnnotation validation failed for '[^']*' members: '(?<members>[^']*)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();
}
