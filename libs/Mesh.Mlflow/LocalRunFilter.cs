using System.Text.RegularExpressions;

namespace Mesh.Mlflow;

/// <summary>
/// One clause of the run filters <see cref="LocalTrackingStore"/> understands: <c>tags.&lt;key&gt; = '&lt;value&gt;'</c>,
/// <c>attributes.run_name = '&lt;value&gt;'</c> and <c>attributes.status = '&lt;value&gt;'</c>, joined by AND (what the services send).
/// </summary>
internal sealed partial record LocalRunFilter(string Key, string Value, bool IsTag)
{
    public static List<LocalRunFilter> Parse(string? filter)
    {
        var conditions = new List<LocalRunFilter>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return conditions;
        }

        foreach (var clause in AndSplitter().Split(filter))
        {
            var match = ClausePattern().Match(clause.Trim());
            if (!match.Success)
            {
                throw new MlflowInvalidParameterException(MlflowErrorCodes.InvalidParameterValue,
                    $"The local tracking folder supports only tags.<key> = '<value>', attributes.run_name = '<value>' and attributes.status = '<value>' joined by AND; got '{clause.Trim()}'", null);
            }

            var key = match.Groups["key"].Value.Trim('`', '"');
            var value = match.Groups["value"].Value.Replace("''", "'", StringComparison.Ordinal);
            conditions.Add(match.Groups["kind"].Value == "tags" ? new LocalRunFilter(key, value, IsTag: true) : new LocalRunFilter(key, value, IsTag: false));
        }

        return conditions;
    }

    public bool Matches(MlflowRun run) => IsTag
        ? run.Tag(Key) == Value
        : Key switch
        {
            "run_name" => run.Info.RunName == Value,
            "status" => run.Info.Status == Value,
            _ => false,
        };

    [GeneratedRegex(@"\s+AND\s+", RegexOptions.IgnoreCase)]
    private static partial Regex AndSplitter();

    [GeneratedRegex(@"^(?<kind>tags|attributes|attribute|run)\.(?<key>`[^`]+`|""[^""]+""|[\w.\-/]+)\s*=\s*'(?<value>(?:[^']|'')*)'$")]
    private static partial Regex ClausePattern();
}
