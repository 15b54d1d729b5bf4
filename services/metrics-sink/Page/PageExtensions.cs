using System.Collections.Frozen;
using System.Text.Json;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Drift;
using Mesh.MetricsSink.Summary;
using Mesh.MetricsSink.Tracking;
using Mesh.MetricsSink.Verdicts;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Page;

/// <summary>The live experiment page: static files embedded in the assembly (no CDN, nothing to deploy beside the binary) and its data endpoint.</summary>
internal static class PageExtensions
{
    public const string PagePath = "/experiments";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private static readonly FrozenDictionary<string, string> s_contentTypes = new Dictionary<string, string>
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["page.js"] = "text/javascript; charset=utf-8",
        ["page.css"] = "text/css; charset=utf-8",
    }.ToFrozenDictionary();

    public static IHostApplicationBuilder AddExperimentPage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PageOptions>()
            .BindConfiguration(PageOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new ExperimentTimeline(sp.GetRequiredService<IOptions<PageOptions>>().Value.MaxSamples));
        builder.Services.AddSingleton<ShedTally>();
        builder.Services.AddHostedService<PageSamplingService>();
        return builder;
    }

    /// <summary>Maps <c>/experiments</c> (the page), its two assets, <c>/</c> (a redirect to it) and <c>GET /api/page?since=</c>.</summary>
    public static WebApplication MapExperimentPage(this WebApplication app)
    {
        // Read once: the files are small and never change while the process runs.
        var files = s_contentTypes.ToFrozenDictionary(f => f.Key, f => ReadResource(f.Key));
        app.MapGet("/", () => Results.Redirect(PagePath));
        app.MapGet(PagePath, () => Results.Bytes(files["index.html"], s_contentTypes["index.html"]));
        app.MapGet(PagePath + "/{file}", (string file) => files.TryGetValue(file, out var bytes)
            ? Results.Bytes(bytes, s_contentTypes[file])
            : Results.NotFound());
        app.MapGet("/api/page", (long? since, PredictionLabelJoiner joiner, DriftMonitor drift, ExperimentTimeline timeline, RunLinks links, IOptions<PageOptions> options) =>
        {
            var summary = links.WithRunUrls(joiner.Snapshot()) with { Drift = drift.Summaries() };
            var data = new PageData(
                options.Value.SampleIntervalMs,
                ExperimentTimeline.LatencyWindowSamples,
                summary,
                summary.Experiments.Select(e => VerdictCalculator.For(e.Experiment, [.. e.Arms.Select(a => new ArmOutcomes(a.Arm, a.Joined, a.Correct, a.Shadow))], e.Verdict)).ToList(),
                timeline.Since(since ?? 0));
            return Results.Json(data, s_json);
        });
        return app;
    }

    private static byte[] ReadResource(string file)
    {
        var name = "Mesh.MetricsSink.Page." + file;
        using var stream = typeof(PageExtensions).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The page asset {name} is not embedded in the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed record PageData(int IntervalMs, int LatencyWindowSamples, SummaryDocument Summary, IReadOnlyList<Verdict> Verdicts, IReadOnlyList<TimelineSample> Samples);
}
