using Mesh.MetricsSink.Aggregation;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Page;

/// <summary>Samples the joiner's totals into the page's timeline every <c>MetricsSink:Page:SampleIntervalMs</c>.</summary>
internal sealed class PageSamplingService(
    PredictionLabelJoiner joiner,
    ExperimentTimeline timeline,
    ShedTally shedding,
    IOptions<PageOptions> options,
    TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.SampleIntervalMs), time);
        timeline.Add(joiner.Snapshot(withLatencyBuckets: true), shedding.Snapshot());
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                timeline.Add(joiner.Snapshot(withLatencyBuckets: true), shedding.Snapshot());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
