namespace Mesh.Cli;

/// <summary>
/// One "## " section of a Markdown page rewritten by a command (each benchmark owns one section of
/// docs/benchmarks.md and keeps the others as they are).
/// </summary>
internal static class MarkdownSections
{
    /// <summary>
    /// <paramref name="document"/> with the section under <paramref name="heading"/> (up to the next "## " heading)
    /// replaced by <paramref name="section"/>, which starts with that heading; the section is added at the end when
    /// the document has none.
    /// </summary>
    public static string Replace(string document, string heading, string section)
    {
        section = section.TrimEnd() + "\n";
        var lines = document.Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimEnd() == heading);
        if (start < 0)
        {
            return document.Length == 0 ? section : document.TrimEnd() + "\n\n" + section;
        }

        var end = Array.FindIndex(lines, start + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
        var before = string.Join('\n', lines[..start]);
        var after = end < 0 ? "" : string.Join('\n', lines[end..]);
        return (before.Length == 0 ? "" : before.TrimEnd() + "\n\n") + section + (after.Length == 0 ? "" : "\n" + after);
    }
}
