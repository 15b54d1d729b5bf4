using System.Globalization;
using System.Text;

namespace Mesh.Cli.Schemas;

/// <summary>The <c>mesh schemas</c> table as plain aligned text, readable in a CI log.</summary>
internal static class SchemaTable
{
    private static readonly string[] s_headers = ["SUBJECT", "MESSAGE", "VERSION", "ID", "COMPATIBILITY", "RESULT"];

    public static string Format(IReadOnlyList<SchemaRow> rows)
    {
        var cells = rows.Select(r => new[] { r.Subject, r.Message, r.Version, r.Id?.ToString(CultureInfo.InvariantCulture) ?? "-", r.Compatibility, r.Result }).ToList();
        var widths = s_headers.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var line in cells.Prepend(s_headers))
        {
            text.AppendLine(string.Join("  ", line.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        return text.ToString();
    }
}
