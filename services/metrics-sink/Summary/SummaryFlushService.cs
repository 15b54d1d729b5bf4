using Mesh.Kafka;
using Mesh.MetricsSink.Aggregation;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.MetricsSink.Summary;

/// <summary>Every <c>MetricsSink:FlushIntervalMs</c>: expires old join entries and rewrites <c>summary.json</c>.</summary>
internal sealed partial class SummaryFlushService(
    PredictionLabelJoiner joiner,
    SummaryFileWriter writer,
    MetricsSinkTelemetry telemetry,
    IOptions<MetricsSinkOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<SummaryFlushService> logger,
    IDriftSummaries? drift = null,
    RunLinks? links = null) : BackgroundService
{
    private bool _failing;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            writer.Prepare();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A sink that cannot record anything must not look healthy.
            FatalError.Stop(lifetime, logger, $"MetricsSink:TrackingDir '{writer.TrackingDir}' is not writable: {e.Message}", e);
            return Task.CompletedTask;
        }

        LogWriting(writer.SummaryPath);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The last counts, as the consume loop left them.
        Flush();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.FlushIntervalMs), time);
        Flush();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Flush()
    {
        var expired = joiner.Expire();
        if (expired.UnmatchedLabels > 0 || expired.UnjoinedPredictions > 0)
        {
            telemetry.UnmatchedLabels.Add(expired.UnmatchedLabels);
            telemetry.UnjoinedPredictions.Add(expired.UnjoinedPredictions);
            LogExpired(expired.Entries, expired.UnmatchedLabels, expired.UnjoinedPredictions);
        }

        try
        {
            var summary = links?.WithRunUrls(joiner.Snapshot()) ?? joiner.Snapshot();
            writer.Write(drift is null ? summary : summary with { Drift = drift.Summaries() });
            if (_failing)
            {
                _failing = false;
                LogRecovered(writer.SummaryPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Transient (a full disk, a reader holding the file on another OS): the next tick retries; log once.
            if (!_failing)
            {
                _failing = true;
                LogWriteFailed(writer.SummaryPath, e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Writing the summary to {Path}")]
    private partial void LogWriting(string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Expired {Entries} request ids: {UnmatchedLabels} labels without prediction, {UnjoinedPredictions} predictions without label")]
    private partial void LogExpired(int entries, int unmatchedLabels, int unjoinedPredictions);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Could not write {Path}: {Reason}; retrying every flush")]
    private partial void LogWriteFailed(string path, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Writing {Path} again")]
    private partial void LogRecovered(string path);
}
