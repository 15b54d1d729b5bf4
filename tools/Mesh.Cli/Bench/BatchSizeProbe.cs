using System.Globalization;
using System.Net.Http;

namespace Mesh.Cli.Bench;

/// <summary>
/// Reads the router's <c>mesh.router.batch.size</c> histogram from its Prometheus <c>/metrics</c>: the sum and count
/// over every arm, so two reads around a run give the mean records per ModelInfer call in it. At saturation that mean
/// says whether the per-call cost of gRPC is spread over full batches or paid on small ones.
/// </summary>
internal static class BatchSizeProbe
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static async Task<(double Sum, double Count)?> ReadAsync(Uri router)
    {
        string text;
        try
        {
            text = await s_http.GetStringAsync(new Uri(router, "/metrics")).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }

        return Parse(text);
    }

    /// <summary>The histogram's sum and count over all label sets, or null when the exposition has none.</summary>
    public static (double Sum, double Count)? Parse(string exposition)
    {
        double sum = 0, count = 0;
        var found = false;
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith("mesh_router_batch_size", StringComparison.Ordinal))
            {
                continue;
            }

            var name = line[..line.IndexOfAny(['{', ' '])];
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            if (name.EndsWith("_sum", StringComparison.Ordinal))
            {
                sum += value;
                found = true;
            }
            else if (name.EndsWith("_count", StringComparison.Ordinal))
            {
                count += value;
            }
        }

        return found ? (sum, count) : null;
    }

    /// <summary>Mean records per call between two reads, or null when either read failed or no call was made.</summary>
    public static double? Mean((double Sum, double Count)? before, (double Sum, double Count)? after) =>
        before is { } b && after is { } a && a.Count > b.Count ? Math.Round((a.Sum - b.Sum) / (a.Count - b.Count), 1) : null;
}
