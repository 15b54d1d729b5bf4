namespace Mesh.Router.Tests;

/// <summary>Reads series off a <c>/metrics</c> page in Prometheus text format, as an SRE's query would select them.</summary>
internal static class PrometheusScrape
{
    /// <summary>
    /// The value of the first series of <paramref name="metric"/> carrying every label in <paramref name="labels"/>
    /// (other labels, such as the exporter's <c>otel_scope_name</c>, may be there too); null when there is none.
    /// </summary>
    public static double? Value(string page, string metric, params (string Name, string Value)[] labels)
    {
        foreach (var line in page.Split('\n'))
        {
            if (!line.StartsWith(metric + "{", StringComparison.Ordinal) && !line.StartsWith(metric + " ", StringComparison.Ordinal))
            {
                continue;
            }

            var close = line.IndexOf('}');
            var labelText = close < 0 ? "" : line[..close];
            if (labels.All(l => labelText.Contains($"{l.Name}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                var rest = line[((close < 0 ? metric.Length : close + 1))..].Trim();
                return double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Scrapes until <paramref name="done"/> holds for the page (the exporter caches its answer briefly), or fails with the last page.</summary>
    public static async Task<string> UntilAsync(HttpClient http, Func<string, bool> done, TimeSpan patience, string what)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var page = await http.GetStringAsync("/metrics");
            if (done(page))
            {
                return page;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/metrics never showed {what}:\n{page}");
            await Task.Delay(200);
        }
    }
}
