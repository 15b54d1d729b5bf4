using System.Diagnostics;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Producer.Csv;
using Mesh.Producer.Options;
using Mesh.Producer.Pacing;
using Mesh.Producer.Records;
using Mesh.Producer.Sources;
using Mesh.Producer.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Producer.Publishing;

/// <summary>
/// Publishes the source's rows at the configured rate or load shape, then the labels after their delay (fixed or
/// with random jitter), waits for every acknowledgement, prints a summary and stops the process (exit code 0 only
/// when everything was acknowledged).
/// </summary>
internal sealed partial class PublishWorker(
    IOptions<ProducerOptions> options,
    KafkaClientFactory kafka,
    WireFormatWriter wireFormat,
    ProducerTelemetry telemetry,
    PublishProgress progress,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<PublishWorker> logger) : BackgroundService
{
    private static readonly TimeSpan s_minWait = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_maxWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_flushTimeout = TimeSpan.FromSeconds(30);
    private const int MaxBurst = 10_000;

    // Ordered by due time: with a random delay, labels fall due in another order than their records were sent.
    private readonly PriorityQueue<Label, long> _pendingLabels = new();
    private IProducer<byte[], byte[]>? _producer;
    private Action<DeliveryReport<byte[], byte[]>>? _onRecordDelivered;
    private Action<DeliveryReport<byte[], byte[]>>? _onLabelDelivered;
    private int _failureLogs;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the CSV is read and the clients connect.
        await Task.Yield();
        telemetry.AddZeros();
        try
        {
            var summary = await RunAsync(stoppingToken);
            LogSummary(summary);
            progress.Complete(summary);
            if (summary.ExitCode != 0)
            {
                Environment.ExitCode = summary.ExitCode;
            }

            lifetime.StopApplication();
        }
        catch (Exception e)
        {
            progress.Fail(e);
            FatalError.Stop(lifetime, logger, "the producer failed: " + e.Message, e);
        }
    }

    private async Task<PublishSummary> RunAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var table = FeatureSourceReader.Read(o);
        foreach (var error in table.Errors)
        {
            LogBadRow(error.File, error.LineNumber, error.Reason);
        }

        telemetry.BadRows.Add(table.Errors.Count);
        if (table.Errors.Count > 0 && string.Equals(o.OnBadRow, "stop", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{table.Errors[0]} (and {table.Errors.Count - 1} more bad rows); nothing was sent because Producer:OnBadRow is 'stop'.");
        }

        if (table.Rows.Count == 0)
        {
            throw new InvalidDataException($"Producer:File '{table.File}' has no valid rows ({table.Errors.Count} skipped).");
        }

        var shift = MeanShift.For(o.Drift, table);
        var topics = kafka.Options.Topics;
        var runId = string.IsNullOrWhiteSpace(o.RunId) ? Guid.NewGuid().ToString("N")[..12] : o.RunId;
        var target = o.Count > 0 ? o.Count : o.DurationSeconds > 0 ? long.MaxValue : table.Rows.Count;
        LogStarting(table.File, table.Rows.Count, table.Errors.Count, topics.Features, topics.Labels, o.Rate, target == long.MaxValue ? "unbounded" : target.ToString(), o.DurationSeconds, runId);

        using var producer = kafka.CreateProducer("mesh-producer", error =>
            FatalError.Stop(lifetime, logger, $"fatal Kafka producer error {error.Code}: {error.Reason}"));
        _producer = producer;
        var records = new DeliveryCounts(progress.RecordAcked, telemetry.RecordsAcked, progress.RecordFailed, telemetry.RecordsFailed);
        var labels = new DeliveryCounts(progress.LabelAcked, telemetry.LabelsAcked, progress.LabelFailed, telemetry.LabelsFailed);
        _onRecordDelivered = report => OnDelivered(report, records);
        _onLabelDelivered = report => OnDelivered(report, labels);

        var builder = new RecordBuilder(runId, o.FeatureSet, table.FeatureNames, o.Entities, o.Seed);
        var pacer = new RatePacer(RateProfile.From(o), time);
        var jitter = new Random(o.Seed);
        var jitterTicks = (long)(o.LabelDelayJitterMs / 1000.0 * time.TimestampFrequency);
        var bar = ProgressBar.Create(o.ProgressBar, target == long.MaxValue ? 0 : target, o.DurationSeconds);
        var start = time.GetTimestamp();
        var labelDelayTicks = (long)(o.LabelDelayMs / 1000.0 * time.TimestampFrequency);
        var durationTicks = o.DurationSeconds > 0 ? (long)(o.DurationSeconds * time.TimestampFrequency) : long.MaxValue;
        var lastReport = start;
        long lastReportAcked = 0;
        long sent = 0;
        var interrupted = false;

        while (true)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                interrupted = true;
                break;
            }

            var now = time.GetTimestamp();
            var sendingDone = sent >= target || now - start >= durationTicks;
            if (!sendingDone)
            {
                var permits = pacer.Acquire(Math.Min(MaxBurst, target - sent));
                for (var i = 0; i < permits; i++)
                {
                    var row = table.Rows[(int)(sent % table.Rows.Count)];
                    row = shift?.Apply(row, sent) ?? row;
                    var (record, label) = builder.Build(row, time.GetUtcNow().UtcDateTime);
                    SendRecord(topics.Features, record);
                    sent++;
                    if (o.PublishLabels)
                    {
                        var due = time.GetTimestamp() + labelDelayTicks + (jitterTicks > 0 ? jitter.NextInt64(jitterTicks + 1) : 0);
                        _pendingLabels.Enqueue(label, due);
                    }
                }
            }

            SendDueLabels(topics.Labels, time.GetTimestamp());
            if (bar is not null)
            {
                bar.Draw(progress, pacer.CurrentRate, time.GetElapsedTime(start));
            }
            else if (time.GetElapsedTime(lastReport) >= TimeSpan.FromSeconds(1))
            {
                var acked = progress.RecordsAcked;
                LogProgress(progress.RecordsSent, acked, progress.RecordsFailed, progress.LabelsSent, progress.LabelsAcked,
                    Math.Round((acked - lastReportAcked) / time.GetElapsedTime(lastReport).TotalSeconds, 1));
                lastReport = time.GetTimestamp();
                lastReportAcked = acked;
            }

            if (sendingDone && _pendingLabels.Count == 0)
            {
                break;
            }

            var wait = sendingDone ? s_maxWait : pacer.TimeUntilNextPermit();
            if (_pendingLabels.Count > 0)
            {
                _pendingLabels.TryPeek(out _, out var nextDue);
                var labelDue = TimeSpan.FromSeconds(Math.Max(0, nextDue - time.GetTimestamp()) / (double)time.TimestampFrequency);
                wait = labelDue < wait ? labelDue : wait;
            }

            // Never a per-record sleep: wait at least a millisecond and send what was earned meanwhile as a burst.
            wait = wait < s_minWait ? s_minWait : wait > s_maxWait ? s_maxWait : wait;
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                interrupted = true;
                break;
            }
        }

        if (interrupted)
        {
            // Stopped early: every record sent still gets its label, so downstream joins stay complete.
            LogInterrupted(sent, _pendingLabels.Count);
            SendDueLabels(topics.Labels, long.MaxValue);
        }

        var inFlight = producer.Flush(s_flushTimeout);
        if (inFlight > 0)
        {
            LogFlushTimeout(inFlight, s_flushTimeout.TotalSeconds);
        }

        var summary = progress.Summarize(table.Errors.Count, interrupted, time.GetElapsedTime(start));
        bar?.Finish(summary);
        return summary;
    }

    private void SendRecord(string topic, FeatureRecord record)
    {
        Publish(topic, record, record.RequestId, record.EntityId, operationTag: true, _onRecordDelivered!);
        progress.RecordSent();
        telemetry.RecordsSent.Add(1);
    }

    private void SendDueLabels(string topic, long now)
    {
        while (_pendingLabels.TryPeek(out _, out var due) && due <= now)
        {
            var label = _pendingLabels.Dequeue();
            label.ObservedTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(time.GetUtcNow().UtcDateTime);
            Publish(topic, label, label.RequestId, label.EntityId, operationTag: false, _onLabelDelivered!);
            progress.LabelSent();
            telemetry.LabelsSent.Add(1);
        }
    }

    /// <summary>
    /// Sends one record keyed by its entity, framed for the topic, under a producer span whose context travels in the
    /// headers. <paramref name="operationTag"/>: the span also says <c>messaging.operation.type</c> (feature records'
    /// spans do, labels' never have).
    /// </summary>
    private void Publish<T>(string topic, T value, string requestId, string entityId, bool operationTag, Action<DeliveryReport<byte[], byte[]>> onDelivered)
        where T : IMessage<T>, new()
    {
        using var activity = ProducerTelemetry.ActivitySource.StartActivity($"{topic} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", topic);
        if (operationTag)
        {
            activity?.SetTag("messaging.operation.type", "publish");
        }

        activity?.SetTag("mesh.request_id", requestId);
        var message = new Message<byte[], byte[]>
        {
            Key = System.Text.Encoding.UTF8.GetBytes(entityId),
            Value = wireFormat.Encode(topic, value),
            Headers = MeshHeaders.Create<T>(activity),
        };
        Produce(topic, message, onDelivered);
    }

    // A full local queue waits for deliveries to drain (bounded) instead of dropping or growing without bound.
    private void Produce(string topic, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>> onDelivered) =>
        ProduceRetry.Produce(_producer!, topic, message, onDelivered, CancellationToken.None);

    private void OnDelivered(DeliveryReport<byte[], byte[]> report, DeliveryCounts counts)
    {
        if (report.Error.IsError)
        {
            counts.Failed();
            counts.FailedCounter.Add(1);
            LogDeliveryFailure(report.Topic, report.Error.Reason);
        }
        else
        {
            counts.Acked();
            counts.AckedCounter.Add(1);
        }
    }

    private void LogDeliveryFailure(string topic, string reason)
    {
        // A broken cluster fails every record: log the first few, the summary has the count.
        if (Interlocked.Increment(ref _failureLogs) <= 10)
        {
            LogDeliveryFailed(topic, reason);
        }
    }

    private void LogSummary(PublishSummary s) =>
        LogDone(s.Succeeded ? "complete" : "INCOMPLETE", s.RecordsSent, s.RecordsAcked, s.RecordsFailed, s.LabelsSent, s.LabelsAcked, s.LabelsFailed,
            s.BadRows, s.Interrupted, Math.Round(s.Elapsed.TotalSeconds, 2), Math.Round(s.RecordsAcked / Math.Max(0.001, s.Elapsed.TotalSeconds), 1), s.ExitCode);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Skipping bad row {File}:{Line}: {Reason}")]
    private partial void LogBadRow(string file, int line, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Publishing {File} ({Rows} rows, {BadRows} skipped) to {FeaturesTopic}, labels to {LabelsTopic}, at {Rate} records/s, count {Count}, duration {Duration} s, run {RunId}")]
    private partial void LogStarting(string file, int rows, int badRows, string featuresTopic, string labelsTopic, double rate, string count, double duration, string runId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Progress: sent {Sent}, acked {Acked}, failed {Failed}; labels sent {LabelsSent}, acked {LabelsAcked}; {Rate} records/s")]
    private partial void LogProgress(long sent, long acked, long failed, long labelsSent, long labelsAcked, double rate);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Delivery to {Topic} failed: {Reason}")]
    private partial void LogDeliveryFailed(string topic, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Stopping early after {Sent} records; sending the {PendingLabels} pending labels now")]
    private partial void LogInterrupted(long sent, int pendingLabels);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "{InFlight} messages still unacknowledged after waiting {Seconds} s")]
    private partial void LogFlushTimeout(int inFlight, double seconds);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Run {Outcome}: records sent {Sent}, acked {Acked}, failed {Failed}; labels sent {LabelsSent}, acked {LabelsAcked}, failed {LabelsFailed}; bad rows {BadRows}; interrupted {Interrupted}; {Seconds} s, {Rate} records/s; exit code {ExitCode}")]
    private partial void LogDone(string outcome, long sent, long acked, long failed, long labelsSent, long labelsAcked, long labelsFailed, int badRows, bool interrupted, double seconds, double rate, int exitCode);

    /// <summary>Where one kind of record (features or labels) counts its deliveries: built once per run, so a report allocates nothing.</summary>
    private sealed record DeliveryCounts(Action Acked, Counter<long> AckedCounter, Action Failed, Counter<long> FailedCounter);
}
